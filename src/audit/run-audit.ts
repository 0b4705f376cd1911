// `lifeboat PROFILE audit`: can an attacker who owns this server destroy the backups? One finding a
// line, each problem with its fix: (a) what the credentials can do to stored files (the canary, and the
// store's own word where its API gives it), (b) object lock on the target and until when the stored
// backup is protected, (c) recovery traps on this server: the only copy of the passphrase or secret
// key, a profile others can read, secrets visible to other users. docs/hardening.md is the guide.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { argvOf, duplicityInvocation } from '../profile/commands.js';
import type { ProfilePaths } from '../profile/locate.js';
import type { ProfileSettings } from '../profile/settings.js';
import { openProfileTarget } from '../profile/profile-target.js';
import { chainSets, remoteSetNames } from '../duplicity/collection.js';
import type { Backend, ProtectionFacts } from '../backend/types.js';
import { CANARY_NAME, probeCanary, type CanaryReport } from './canary.js';

export type FindingLevel = 'ok' | 'note' | 'problem';

export interface Finding {
  level: FindingLevel;
  text: string;
  /** what to do about it (problems always have one) */
  fix?: string;
}

export interface AuditInput {
  paths: ProfilePaths;
  settings: ProfileSettings;
  /** the conf's environment and variables */
  env: Record<string, string>;
  vars: Record<string, string | undefined>;
}

export interface AuditOptions {
  /** write, overwrite and delete the canary (the real test); drill's brief audit leaves it out */
  canary: boolean;
}

export async function auditProfile(input: AuditInput, options: AuditOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  findings.push(...localFindings(input));
  try {
    findings.push(...await targetFindings(input, options));
  } catch (err) {
    // the local findings still count; an unreachable target is a problem of its own
    findings.push({
      level: 'problem',
      text: `the target could not be checked: ${(err as Error).message}.`,
      fix: `check TARGET and its credentials ("lifeboat ${input.paths.name} status" shows the same error), then run the audit again.`,
    });
  }
  return findings;
}

export function formatFinding(f: Finding): string {
  const tag = f.level === 'problem' ? 'PROBLEM' : f.level === 'note' ? 'note' : 'ok';
  return `${tag}: ${f.text}${f.fix ? ` Fix: ${f.fix}` : ''}`;
}

function scheme(url: string): string {
  return /^([a-z0-9+.-]+):\/\//i.exec(url)?.[1]?.toLowerCase() ?? '';
}

/** Per store, how to take the right away (docs/hardening.md has the recipes). */
function deleteFix(kind: string): string {
  if (kind === 'b2') return 'back up with a B2 application key without deleteFiles (b2 key create --bucket B NAME listBuckets,listFiles,readFiles,writeFiles), purge from elsewhere with a key that has it; see docs/hardening.md.';
  if (kind.includes('s3')) return 'deny s3:DeleteObject and s3:DeleteObjectVersion to the backup credentials (bucket policy) and turn on versioning or Object Lock; purge with other credentials; see docs/hardening.md.';
  if (kind.includes('sftp') || kind.includes('scp')) return 'give this server an append-only SFTP account (ForceCommand internal-sftp -P remove,rmdir,posix-rename,setstat,fsetstat,lsetstat,symlink,hardlink -u 0222); see docs/hardening.md.';
  if (kind === 'file') return 'a local or mounted directory is writable by whoever owns this server: back up to a remote target with write-only credentials; see docs/hardening.md.';
  return 'give this server credentials that can write new files but not delete or replace stored ones; see docs/hardening.md.';
}

export function localFindings(input: AuditInput): Finding[] {
  const findings: Finding[] = [];
  const { paths, settings, vars, env } = input;

  // the profile folder and its files: credentials, passphrase, keys
  const dirMode = statSync(paths.dir).mode & 0o777;
  if (dirMode & 0o077) {
    findings.push({ level: 'problem', text: `the profile folder ${paths.dir} is open to other users (mode ${dirMode.toString(8).padStart(4, '0')}).`, fix: `chmod 700 ${paths.dir}` });
  }
  let readable = 0;
  for (const name of readdirSync(paths.dir)) {
    const path = join(paths.dir, name);
    const s = statSync(path);
    if (!s.isFile() || !(s.mode & 0o044)) continue;
    readable++;
    const mode = (s.mode & 0o777).toString(8).padStart(4, '0');
    const secret = name === 'conf' || /\.asc$|\.sec|key/i.test(name);
    findings.push({
      level: secret ? 'problem' : 'note',
      text: `${path} is readable by other users (mode ${mode})${secret ? ': it holds credentials or keys' : ''}.`,
      fix: `chmod 600 ${path}`,
    });
  }
  if (!(dirMode & 0o077) && readable === 0) findings.push({ level: 'ok', text: `the profile folder ${paths.dir} and its files are readable by their owner only.` });

  // the only copy of what decrypts the backups
  const escrow = vars.KEY_ESCROW?.trim();
  const enc = settings.encryption;
  if (enc.mode === 'disabled') {
    findings.push({ level: 'note', text: 'backups are not encrypted: whoever can read the target can read the data.' });
  } else if (enc.mode === 'symmetric') {
    if (escrow) findings.push({ level: 'ok', text: `the passphrase GPG_PW has a copy off this server (KEY_ESCROW: ${escrow}).` });
    else {
      findings.push({
        level: 'problem',
        text: `the passphrase that decrypts the backups (GPG_PW) is, as far as Lifeboat knows, only in ${paths.conf} on this server: lose the server and every backup is unreadable.`,
        fix: `keep a copy of GPG_PW off this server (a password manager, or on paper in a safe), then record where in the conf: KEY_ESCROW='password manager, vault Ops'.`,
      });
    }
  } else {
    for (const key of enc.keys) {
      const secret = secretKeyOnThisServer(key, env);
      if (secret === undefined) {
        findings.push({ level: 'note', text: `could not ask gpg whether the secret key of ${key} is on this server.` });
      } else if (secret) {
        if (escrow) findings.push({ level: 'ok', text: `the secret key of ${key} is in this server's keyring and has a copy elsewhere (KEY_ESCROW: ${escrow}).` });
        else {
          findings.push({
            level: 'problem',
            text: `the secret key of ${key}, which decrypts the backups, is in this server's keyring and Lifeboat knows of no other copy: lose the server and every backup is unreadable; and whoever takes the server can read old backups.`,
            fix: `gpg --armor --export-secret-keys ${key} > ${key}.sec.asc, store that file (and its passphrase) off this server, delete the exported file here, then set KEY_ESCROW='where' in the conf; better: encrypt to a key whose secret half never was on this server.`,
          });
        }
      } else {
        findings.push({ level: 'ok', text: `the secret key of ${key} is not on this server: backups are decrypted elsewhere, and taking this server does not open old backups.` });
      }
    }
    for (const name of readdirSync(paths.dir).filter((n) => /^gpgkey\..*\.sec\.asc$/.test(n))) {
      if (!escrow) {
        findings.push({
          level: 'problem',
          text: `${join(paths.dir, name)} is a secret key kept in the profile folder on this server.`,
          fix: 'keep a copy of it off this server, then set KEY_ESCROW=\'where\' in the conf.',
        });
      }
    }
  }

  // secrets other users can see: a child's command line is public (ps, /proc/PID/cmdline)
  const argv = argvOf(duplicityInvocation({ command: 'bkp', settings, paths, options: [], params: [] }));
  const password = settings.target.passwordEnv?.value;
  const urlWithPassword = argv.find((a) => /^[a-z0-9+.-]+:\/\/[^/@]*:[^/@]+@/i.test(a));
  if (urlWithPassword || (password && argv.some((a) => a.includes(password)))) {
    findings.push({
      level: 'problem',
      text: 'the target\'s password is on the command line of the lifeboat duplicity child process, where every user of this server can read it (ps).',
      fix: 'put the user in TARGET_USER (or the URL) and the password in TARGET_PASS: Lifeboat then passes it in the environment (FTP_PASSWORD), which only the owner and root can read.',
    });
  } else {
    findings.push({ level: 'ok', text: 'no password on the command line of the child processes (passwords and passphrases travel in their environment).' });
  }
  return findings;
}

/** Whether gpg has the secret key; undefined when gpg cannot say. */
function secretKeyOnThisServer(key: string, env: Record<string, string>): boolean | undefined {
  const r = spawnSync('gpg', ['--batch', '--with-colons', '--list-secret-keys', '--', key], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.error) return undefined;
  if (r.status === 0) return /^sec:/m.test(r.stdout);
  // gpg: error reading key: No secret key
  return /No secret key|not found/i.test(r.stderr) ? false : undefined;
}

async function targetFindings(input: AuditInput, options: AuditOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  const kind = scheme(input.settings.target.url);
  const target = await openProfileTarget({ paths: input.paths, settings: input.settings, env: input.env }, () => undefined);
  const backend = target.backend;
  try {
    const facts = await backend.protection?.();
    if (facts) for (const note of facts.notes) findings.push({ level: 'note', text: `${note}.` });
    if (facts?.mayDelete === true) {
      findings.push({ level: 'problem', text: `the store says these credentials may delete files (${backend.displayUrl}).`, fix: deleteFix(kind) });
    } else if (facts?.mayDelete === false) {
      findings.push({ level: 'ok', text: 'the store says these credentials may not delete files.' });
    }
    if (options.canary) findings.push(...canaryFindings(await probeCanary(backend), facts, kind, backend));
    else if (kind === 'file') {
      // without the probe: a directory of this server is this server's to delete
      findings.push({ level: 'problem', text: `the target ${backend.displayUrl} is a directory this server writes itself: whoever takes the server can delete it along with the data.`, fix: deleteFix(kind) });
    }
    findings.push(...await lockFindings(input, target.collection, backend, facts));
  } finally {
    await backend.close();
  }
  return findings;
}

function canaryFindings(report: CanaryReport, facts: ProtectionFacts | undefined, kind: string, backend: Backend): Finding[] {
  const findings: Finding[] = [];
  const where = `${backend.displayUrl} (file ${CANARY_NAME}, never a backup file)`;
  if (report.write.result === 'refused') {
    findings.push({ level: 'problem', text: `these credentials cannot write a new file to ${where}: backups fail too (${report.write.why}).`, fix: 'give them the right to write new files (B2 writeFiles; S3 s3:PutObject; a writable SFTP directory).' });
    return findings;
  }
  if (report.overwrite.result === 'done') {
    if (facts?.keepsVersions) {
      findings.push({ level: 'ok', text: `a file put again under a stored name becomes a new version; the old one stays (${where}).` });
    } else if (report.overwriteReplaced) {
      findings.push({ level: 'problem', text: `these credentials can overwrite stored files: they replaced the canary at ${where}.`, fix: deleteFix(kind) });
    }
  } else if (report.overwrite.result === 'refused') {
    findings.push({ level: 'ok', text: `overwriting a stored file was refused (${where}).` });
  }
  if (report.writableInPlace === true && !(report.overwrite.result === 'done' && report.overwriteReplaced && !facts?.keepsVersions)) {
    findings.push({ level: 'problem', text: `stored files can be opened for writing in place: their bytes can be overwritten without a delete (the canary opened read-write at ${where}).`, fix: deleteFix(kind) });
  } else if (report.writableInPlace === false) {
    findings.push({ level: 'ok', text: 'stored files cannot be opened for writing (read-only to these credentials).' });
  }
  const locked = report.canaryLockedUntil ? ` (the canary itself is under object lock until ${report.canaryLockedUntil.toISOString()})` : '';
  if (report.delete.result === 'done') {
    if (facts?.keepsVersions && facts.mayDelete === false) {
      findings.push({ level: 'ok', text: `a delete only hides the file; its versions stay (${where}).` });
    } else if (facts?.keepsVersions && facts.mayDelete === undefined) {
      findings.push({
        level: 'problem',
        text: `these credentials can delete stored files: they deleted the canary at ${where}; versioning keeps the old versions, unless the same credentials may delete versions too, which the audit cannot see.`,
        fix: deleteFix(kind),
      });
    } else {
      findings.push({ level: 'problem', text: `these credentials can delete stored backups: they deleted the canary at ${where}.`, fix: deleteFix(kind) });
    }
  } else if (report.delete.result === 'refused') {
    findings.push({ level: 'ok', text: `deleting a stored file was refused${locked} (${where}).` });
  }
  return findings;
}

async function lockFindings(input: AuditInput, collection: import('../duplicity/collection.js').Collection, backend: Backend, facts: ProtectionFacts | undefined): Promise<Finding[]> {
  const findings: Finding[] = [];
  const wanted = input.vars.OBJECT_LOCK?.trim();
  if (facts?.lockEnabled === true) {
    findings.push({ level: 'ok', text: `object lock is on for the bucket${facts.defaultRetention ? ` (default retention: ${facts.defaultRetention})` : ''}.` });
  } else if (facts?.lockEnabled === false) {
    findings.push({
      level: wanted ? 'problem' : 'note',
      text: `object lock is off for the bucket${wanted ? `, but the conf sets OBJECT_LOCK=${wanted}: uploads will be refused` : ': stored files are protected only by the credentials\' rights'}.`,
      fix: 'object lock can only be turned on for a bucket made with it (S3: a new bucket with --object-lock-enabled-for-bucket; B2: enable File Lock in the bucket settings); see docs/hardening.md.',
    });
  }
  const primary = collection.primary?.backupChain;
  if (!primary || !backend.lockedUntil) return findings;
  const sets = chainSets(primary);
  const picks = [...new Set([sets[0], sets.at(-1)!].flatMap((s) => {
    const names = remoteSetNames(s);
    return [names[0], names.at(-1)!];
  }))];
  let earliest: Date | null | undefined = undefined;
  for (const name of picks) {
    const until = await backend.lockedUntil(name);
    if (until === undefined) return findings;
    if (until === null) { earliest = null; break; }
    if (earliest === undefined || (earliest !== null && until < earliest)) earliest = until;
  }
  if (earliest) {
    findings.push({ level: 'ok', text: `the current backup chain is under object lock: its files cannot be deleted or replaced before ${earliest.toISOString()}.` });
  } else if (earliest === null) {
    findings.push({
      level: wanted ? 'problem' : 'note',
      text: 'files of the current backup chain are not under object lock.',
      fix: wanted ? 'check that the bucket has object lock on and the key may write retentions (B2 writeFileRetentions); the next full backup is locked.' : 'set OBJECT_LOCK=governance (or compliance) and MAX_AGE in the conf on a bucket with object lock; see docs/hardening.md.',
    });
  }
  return findings;
}
