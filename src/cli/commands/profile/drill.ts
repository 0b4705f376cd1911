// `lifeboat PROFILE drill [--time T] [--sample PERCENT] [--json]`: restores from the real target into
// a scratch directory as a newcomer would (a fresh archive dir: only the target and the profile's
// credentials), checks every restored object against the signatures the backup recorded, loads every
// database dump into a scratch database, reports, and keeps a record on the target (docs/drills.md).
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative, isAbsolute } from 'node:path';
import { parseArgs } from 'node:util';
import { ProfileError } from '../../../profile/conf.js';
import { profileCipher, readContext, settingsForDestination } from '../../../offline/destination.js';
import { redactUrl } from '../../../backend/url.js';
import { openTarget, type Target } from '../../../pipeline/target.js';
import { restoreFromTarget } from '../../../pipeline/restore-from-target.js';
import { readSignatureChain } from '../../../pipeline/signature-chain.js';
import { signatureChainAt } from '../../../duplicity/collection.js';
import { parseTimeString, formatHumanTime } from '../../../duplicity/time.js';
import { indexToPath } from '../../../duplicity/member-names.js';
import { formatBytes } from '../../../pipeline/statistics.js';
import { archiveDirPath } from '../../../cache/archive-dir.js';
import { verifyAgainstSignatures, type VerifyResult } from '../../../drill/verify-restore.js';
import { saveDrillRecord, type DrillRecord } from '../../../drill/history.js';
import { checkDatabaseDumps, type DatabaseCheck } from '../../../drill/database-checks.js';
import type { LoadedProfile, ProfileCommand } from '../profile.js';
import { auditProfile } from '../../../audit/run-audit.js';

function parse(args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: false, options: { time: { type: 'string', short: 't' }, sample: { type: 'string' }, json: { type: 'boolean' }, from: { type: 'string' } } });
  } catch (err) {
    throw new ProfileError(`drill: ${(err as Error).message}`, 'usage: lifeboat PROFILE drill [--time T] [--sample PERCENT] [--json] [--from DEST_URL]');
  }
}

/** The target (or, with `from`, an offline copy) as a replacement machine sees it: the profile's credentials, no local cache. */
export async function openTargetAsNewcomer(profile: LoadedProfile, archiveDir: string, time: number | undefined, from?: string): Promise<Target> {
  const settings = from ? settingsForDestination(profile.settings, from) : profile.settings;
  const context = readContext({ ...profile, settings });
  const cipher = await profileCipher(profile);
  return openTarget(settings.target.url, {
    archiveDir, name: settings.archiveName, sync: true, time, backend: { env: context.env, options: context.backendOptions },
    cipher, tempdir: settings.tempDir, notice: () => undefined,
  });
}

export const drill: ProfileCommand = async (profile, ctx) => {
  const { values } = parse(profile.rest);
  const out = profile.out;
  const now = Math.floor(Date.now() / 1000);
  const time = values.time ? parseTimeString(values.time, now) : now;
  const sample = values.sample === undefined ? undefined : Number(values.sample);
  if (sample !== undefined && !(sample > 0 && sample <= 100)) throw new ProfileError(`drill: --sample ${values.sample} is not a percentage`, 'give a number above 0 and at most 100, e.g. --sample 5');

  const scratch = mkdtempSync(join(profile.settings.tempDir, 'lifeboat-drill-'));
  const started = Date.now();
  try {
    const target = await openTargetAsNewcomer(profile, join(scratch, 'cache'), time, values.from);
    const chain = signatureChainAt(target.collection, time);
    const backupTime = Math.max(chain.startTime, ...chain.newSignatures.filter((s) => s.endTime <= time).map((s) => s.endTime));
    const upTo = { ...chain, newSignatures: chain.newSignatures.filter((s) => s.endTime <= time) };
    const tree = join(scratch, 'tree');
    const quiet = { notice: () => undefined, warning: (l: string) => out.warning(l), info: () => undefined };
    const restoreOptions = { target, time, force: false, restoreOwnership: true, numericOwner: false, tempdir: profile.settings.tempDir, dryRun: false, durable: false, ...quiet };

    let include: ((index: Buffer[]) => boolean) | undefined;
    if (sample === undefined) {
      await restoreFromTarget({ ...restoreOptions, destination: tree });
    } else {
      // each regular file joins the sample with the chosen probability; each is restored on its own,
      // reading only the volumes that hold it
      const chosen = new Set<string>();
      const dumpDir = profile.settings.dumps?.dirInBackup;
      for await (const { entry, body } of readSignatureChain(target, upTo)) {
        for await (const _ of body) { /* drained */ }
        const raw = indexToPath(entry.index);
        const path = raw.toString('utf8');
        // --file-to-restore takes text: a name that is not UTF-8 cannot be asked for alone
        if (!Buffer.from(path, 'utf8').equals(raw)) continue;
        // database dumps are always part of the sample: each one is loaded and checked
        const isDump = dumpDir !== undefined && path.startsWith(`${dumpDir}/`);
        if (entry.type === 'reg' && (isDump || Math.random() * 100 < sample)) chosen.add(path);
      }
      for (const path of chosen) {
        await restoreFromTarget({ ...restoreOptions, destination: join(tree, path), fileToRestore: path });
      }
      include = (index) => chosen.has(indexToPath(index).toString('utf8'));
    }
    const restoreSeconds = (Date.now() - started) / 1000;
    const verified = await verifyAgainstSignatures(tree, readSignatureChain(target, upTo), { include, checkOwners: process.geteuid?.() === 0 });
    const databases = profile.settings.dumps ? await checkDatabaseDumps(profile.settings.dumps, tree) : [];
    const seconds = (Date.now() - started) / 1000;
    const recoveryWarnings = newcomerWarnings(profile, tree, target, sample !== undefined, values.from !== undefined);
    const ok = verified.mismatches.length === 0 && databases.every((d) => d.ok);
    const record: DrillRecord = {
      time: now, ok, backupTime, sample, files: verified.files, bytes: verified.bytes, seconds: Math.round(seconds * 10) / 10,
      mismatches: verified.mismatches.length + verified.unlisted, databases: databases.map(({ name, ok: good, message }) => ({ name, ok: good, message })), host: hostname(),
    };
    const recordName = await saveDrillRecord(target.backend, record).catch((err: Error) => {
      out.warning(`WARNING: could not store the drill record on the target: ${err.message}`);
      return undefined;
    });
    await target.backend.close();
    // the brief audit (no canary): its problems are warnings and leave the drill's result alone; a drill
    // from an offline copy may run with no network, so the target is not audited then
    const security = values.from ? [] : await briefAudit(profile);
    if (values.json) {
      ctx.out.result(`${JSON.stringify({ ...record, restoreSeconds, throughputBytesPerSecond: Math.round(verified.bytes / Math.max(restoreSeconds, 0.001)), mismatchList: verified.mismatches, warnings: recoveryWarnings, security, recordName }, null, 2)}\n`);
    } else {
      ctx.out.result(report(record, verified, databases, restoreSeconds, backupTime, values.from ? redactUrl(values.from) : undefined));
      for (const w of recoveryWarnings) out.warning(`WARNING: ${w}`);
      for (const w of security) out.warning(`WARNING: security: ${w}`);
    }
    return ok ? 0 : 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
};

/** The audit's problems without the canary probe (docs/hardening.md), as warning lines. */
async function briefAudit(profile: LoadedProfile): Promise<string[]> {
  try {
    const findings = await auditProfile({ paths: profile.paths, settings: profile.settings, env: profile.conf.env, vars: profile.conf.vars }, { canary: false });
    const problems = findings.filter((f) => f.level === 'problem').map((f) => `${f.text}${f.fix ? ` Fix: ${f.fix}` : ''}`);
    if (problems.length > 0) problems.push(`"lifeboat ${profile.paths.name} audit" checks the credentials for real`);
    return problems;
  } catch (err) {
    return [`the security audit could not run: ${(err as Error).message}`];
  }
}

function report(record: DrillRecord, verified: VerifyResult, databases: DatabaseCheck[], restoreSeconds: number, backupTime: number, from?: string): string {
  const lines = [
    `Drill ${record.ok ? 'passed' : 'FAILED'}: the backup of ${formatHumanTime(backupTime)}${record.sample ? ` (a ${record.sample}% sample)` : ''} restored from ${from ? `the offline copy ${from}` : 'the target'} alone.`,
    `  ${verified.objects} objects, ${verified.files} files, ${formatBytes(verified.bytes)} checked against the backup's signatures in ${record.seconds} s (restore ${formatBytes(verified.bytes / Math.max(restoreSeconds, 0.001))}/s)`,
  ];
  if (verified.mismatches.length > 0) {
    lines.push(`  ${verified.mismatches.length + verified.unlisted} mismatches:`);
    for (const m of verified.mismatches) lines.push(`    ${m}`);
    if (verified.unlisted) lines.push(`    ... and ${verified.unlisted} more`);
  }
  for (const d of databases) lines.push(`  database ${d.name}: ${d.ok ? `loaded and checked (${d.message})` : `FAILED: ${d.message}`}`);
  return `${lines.join('\n')}\n`;
}

/** What a replacement machine would miss: things needed for recovery that exist only here. */
function newcomerWarnings(profile: LoadedProfile, tree: string, target: Target, sampled: boolean, fromCopy: boolean): string[] {
  const warnings: string[] = [];
  const { paths, settings } = profile;
  const inside = relative(settings.source, paths.dir);
  const profileInBackup = !inside.startsWith('..') && !isAbsolute(inside) && (sampled || existsSync(join(tree, inside, 'conf')));
  if (!profileInBackup) {
    warnings.push(`the profile ${paths.dir} (its TARGET and credentials) is not in the backup: keep a copy of it off this server, or a new machine cannot find the backups`);
  }
  if (settings.encryption.mode !== 'disabled') {
    warnings.push('the passphrase or secret key that decrypts the backups must exist somewhere other than this server');
  }
  const localDir = archiveDirPath(settings.target.url, { archiveDir: settings.archiveDir, name: settings.archiveName });
  if (!fromCopy && existsSync(localDir)) {
    const remote = new Set(target.remoteNames);
    const onlyLocal = readdirSync(localDir).filter((n) => /\.(manifest|sigtar)/.test(n) && !n.endsWith('.part') && !remote.has(n) && !remote.has(`${n}.gz`) && !remote.has(n.replace(/\.gz$/, '')));
    if (onlyLocal.length > 0) warnings.push(`the archive dir ${localDir} holds ${onlyLocal.length} file(s) the target lacks (${onlyLocal.slice(0, 3).join(', ')}): they exist only on this server`);
  }
  return warnings;
}
