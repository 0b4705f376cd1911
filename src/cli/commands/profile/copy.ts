// `lifeboat PROFILE copy DEST_URL [--label NAME] [--from-source] [--force]`: an offline copy on a
// rotating disk (docs/offline-copies.md). By default DEST is brought up to date with the profile's
// target (src/offline/copy.ts); with --from-source a fresh full backup of SOURCE is written straight
// to DEST with the profile's settings, then checked the same way. Either way the disk gets its label
// and sums, the profile's retention is applied to the disk only with --force, and a record of the copy
// goes to the target, where `status` reads it without the disk.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { openBackend } from '../../../backend/registry.js';
import { redactUrl } from '../../../backend/url.js';
import type { Backend } from '../../../backend/types.js';
import { archiveDirPath, cacheNameFor } from '../../../cache/archive-dir.js';
import { runDumps } from '../../../dbdump/run-dumps.js';
import { buildCollection, type Collection } from '../../../duplicity/collection.js';
import { formatHumanTime } from '../../../duplicity/time.js';
import { LifeboatError } from '../../../errors/lifeboat-error.js';
import { ExitCode } from '../../../errors/exit-codes.js';
import { copyArchive, type CopySource } from '../../../offline/copy.js';
import { checkDestination, profileCipher, readContext, removeLeftovers, settingsForDestination } from '../../../offline/destination.js';
import {
  readLabel, readSums, saveCopyRecord, writeLabel, writeSums, type CopyRecord, type DiskLabel, type HeldChain,
} from '../../../offline/disk-files.js';
import { runRetention } from '../../../pipeline/retention.js';
import { formatBytes } from '../../../pipeline/statistics.js';
import { ProfileError } from '../../../profile/conf.js';
import { lockProfile } from '../../../profile/profile-lock.js';
import { purgeCommands } from '../../../retention/policy.js';
import type { ArchiveCipher } from '../../../crypto/archive-cipher.js';
import { runProfileDuplicity, type LoadedProfile, type ProfileCommand } from '../profile.js';
import { profileCommandArgs } from './options.js';

const USAGE = 'usage: lifeboat PROFILE copy DEST_URL [--label NAME] [--from-source] [--force]';

async function listSizes(backend: Backend): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for await (const { name, size } of backend.list()) sizes.set(name, size);
  return sizes;
}

function held(collection: Collection): DiskLabel['holds'] {
  const chains: HeldChain[] = collection.backupChains.map((c) => ({ start: c.startTime, end: c.endTime, sets: 1 + c.incrementalSets.length }));
  return { chains, lastBackupTime: chains.length ? Math.max(...chains.map((c) => c.end)) : null };
}

/**
 * A disk that is not mounted: its mount point is an empty directory on the root file system, and a
 * copy would fill the root file system instead. Refused when DEST (file://) does not exist yet and
 * the nearest existing directory above it is under /media, /mnt or /run/media on the root's device.
 */
function checkMounted(destUrl: string): void {
  if (!/^file:\/\//i.test(destUrl)) return;
  const dir = resolve(decodeURIComponent(destUrl.slice('file://'.length)));
  if (existsSync(dir)) return;
  let ancestor = dirname(dir);
  while (!existsSync(ancestor)) ancestor = dirname(ancestor);
  if (!/^\/(media|mnt|run\/media)(\/|$)/.test(ancestor)) return;
  if (statSync(ancestor).dev === statSync('/').dev) {
    throw new ProfileError(`copy: ${dir} does not exist and ${ancestor} is on the root file system: is the disk mounted?`,
      `mount the disk (e.g. mount /dev/sdX1 ${ancestor}), or create ${dir} first if this really is the place`);
  }
}

export const copy: ProfileCommand = async (profile, ctx) => {
  const { values, positionals } = profileCommandArgs('copy', profile.rest, {
    label: { type: 'string' }, 'from-source': { type: 'boolean' }, force: { type: 'boolean' },
  }, 1);
  const destUrl = positionals[0];
  if (!destUrl) throw new ProfileError('copy: DEST_URL is missing', `${USAGE}, e.g. file:///media/backup-a/${profile.paths.name}`);
  checkDestination(destUrl, profile.settings.target.url);
  checkMounted(destUrl);
  if (values.label !== undefined && values.label.trim() === '') throw new ProfileError('copy: --label is empty', 'name the disk, e.g. --label backup-a');
  const force = values.force === true;
  const out = profile.out;
  const display = redactUrl(destUrl);
  const release = await lockProfile(profile.paths.dir, profile.settings.lockWaitSeconds, (l) => out.warning(l));
  let scratch: string | undefined;
  const backends: Backend[] = [];
  try {
    scratch = mkdtempSync(join(profile.settings.tempDir, 'lifeboat-copy-'));
    const context = readContext(profile);
    const backendContext = { env: context.env, options: context.backendOptions, log: (l: string) => out.info(l) };
    const dest = await openBackend(destUrl, backendContext);
    backends.push(dest);
    const label = await readLabel(dest);
    const host = hostname();
    const foreign = label !== undefined && (label.profile !== profile.paths.name || label.host !== host);
    if (foreign && !force) {
      throw new ProfileError(`copy: ${display} holds the copies of profile '${label.profile}' of ${label.host}`,
        `give each server and profile its own directory on the disk (e.g. .../${profile.paths.name}), or add --force to add these backups there`);
    }
    if (label && values.label !== undefined && values.label !== label.name && !force) {
      throw new ProfileError(`copy: the disk at ${display} is labelled '${label.name}', not '${values.label}'`, 'leave out --label, or add --force to rename it');
    }
    const diskName = values.label ?? label?.name ?? display;
    const mode: CopyRecord['mode'] = values['from-source'] ? 'from-source' : 'copy';
    const cipher: ArchiveCipher | undefined = profile.settings.encryption.mode === 'disabled' ? undefined : await profileCipher(profile);
    const started = Date.now();

    let source: CopySource;
    if (mode === 'from-source') {
      if (profile.settings.dumps) {
        const report = await runDumps(profile.settings.dumps);
        for (const failure of report.failures) throw new LifeboatError(`copy: ${failure.message}`, { code: 'dump-failed', exitCode: ExitCode.profileCommandFailed, hint: failure.hint ?? 'fix the dump, then copy again' });
      }
      const destProfile: LoadedProfile = { ...profile, settings: settingsForDestination(profile.settings, destUrl) };
      const code = await runProfileDuplicity(destProfile, 'full', [], [], ctx);
      if (code !== 0) {
        ctx.writeStderr(`lifeboat: copy: the full backup to ${display} failed (exit code ${code}); nothing that looks complete was left on the disk\n`);
        return 1;
      }
      // the new set is checked like a copy: its volumes against its manifest, read back from the disk
      const sizes = await listSizes(dest);
      const destCache = archiveDirPath(destUrl, { archiveDir: context.archiveDir, name: destProfile.settings.archiveName });
      source = { backend: dest, sizes, collection: buildCollection([...sizes.keys()], []), cipher, plainManifestPath: (n) => join(destCache, cacheNameFor(n)) };
    } else {
      const from = await openBackend(profile.settings.target.url, backendContext);
      backends.push(from);
      const sizes = await listSizes(from);
      const targetCache = archiveDirPath(profile.settings.target.url, { archiveDir: context.archiveDir, name: context.archiveName });
      source = { backend: from, sizes, collection: buildCollection([...sizes.keys()], []), cipher, plainManifestPath: (n) => join(targetCache, cacheNameFor(n)) };
      if (source.collection.backupChains.length === 0) {
        throw new ProfileError(`copy: the target ${redactUrl(profile.settings.target.url)} holds no complete backup`, `run "lifeboat ${profile.paths.name} backup" first, or copy with --from-source`);
      }
    }

    const leftovers = removeLeftovers(destUrl);
    if (leftovers > 0) out.notice(`Removed ${leftovers} unfinished file(s) an interrupted copy left on ${display}.`);
    const destSizes = await listSizes(dest);
    const sums = await readSums(dest);
    let lastSave = Date.now();
    const result = await copyArchive({
      source, dest, destSizes, sums, force, tempdir: profile.settings.tempDir,
      notice: (l) => out.notice(l), warning: (l) => out.warning(l), info: (l) => out.info(l),
      afterSet: async () => {
        if (Date.now() - lastSave < 10_000) return;
        await writeSums(dest, sums);
        lastSave = Date.now();
      },
    });
    await writeSums(dest, sums);

    // the profile's retention, on the disk: listed, and carried out only with --force
    const policy = { maxAge: profile.settings.maxAge, maxFullBackups: profile.settings.maxFullBackups, maxFullsWithIncrs: profile.settings.maxFullsWithIncrs };
    let names = [...(await listSizes(dest)).keys()];
    // a disk taken over from another profile or host (--force) holds backups that are not this
    // profile's: its retention settings would delete them (they count another chain's fulls)
    const commands = purgeCommands('purgeAuto', policy, Math.floor(Date.now() / 1000));
    if (foreign && commands.length > 0) {
      out.notice(`The retention settings are not applied to ${display} this time: it held the copies of profile '${label!.profile}' of ${label!.host}; from the next copy on they are.`);
    }
    for (const command of foreign ? [] : commands) {
      const target = { url: destUrl, backend: dest, cacheDir: join(scratch, 'cache'), remoteNames: names, collection: buildCollection(names, []) };
      const done = await runRetention({
        target, command, force, remoteNames: names, notice: (l) => out.info(l), warning: (l) => out.warning(l),
      });
      const planned = done.plan.steps.reduce((n, s) => n + s.remote.length, 0);
      if (!force && planned > 0) out.notice(`The retention settings would delete ${planned} file(s) from ${display}; add --force to delete them.`);
      if (force && done.deletedRemote.length > 0) out.notice(`Deleted ${done.deletedRemote.length} file(s) from ${display} as the retention settings say.`);
      names = done.remoteNamesAfter;
    }
    if (force) {
      for (const name of [...sums.keys()]) if (!names.includes(name)) sums.delete(name);
      await writeSums(dest, sums);
    }

    const now = Math.floor(Date.now() / 1000);
    const holds = held(buildCollection(names, []));
    const newLabel: DiskLabel = {
      name: diskName, profile: profile.paths.name, host, target: redactUrl(profile.settings.target.url),
      firstUse: label?.firstUse ?? now, lastCopy: now, lastMode: mode, holds,
    };
    await writeLabel(dest, newLabel);
    const damaged = result.damaged.filter((d) => !d.repaired);
    const record: CopyRecord = {
      // to the millisecond: two disks written in one second still sort
      time: Date.now() / 1000, disk: diskName, dest: display, mode, lastBackupTime: holds.lastBackupTime, copiedFiles: result.copiedFiles,
      copiedBytes: result.copiedBytes, checkedFiles: result.checkedFiles, damaged: damaged.map((d) => d.name), host,
    };
    try {
      const target = await openBackend(profile.settings.target.url, backendContext);
      backends.push(target);
      await saveCopyRecord(target, record);
    } catch (err) {
      out.warning(`WARNING: could not store the record of this copy on the target (status will not show it): ${(err as Error).message}`);
    }
    const seconds = (Date.now() - started) / 1000;
    out.notice(`Copied ${result.copiedFiles} file(s), ${formatBytes(result.copiedBytes)}, to '${diskName}'${diskName === display ? '' : ` (${display})`} in ${seconds.toFixed(1)} s; ${result.checkedFiles} file(s) already there checked.`);
    out.notice(`The disk holds ${holds.chains.length} chain(s), the newest backup of ${holds.lastBackupTime === null ? 'none' : formatHumanTime(holds.lastBackupTime)}.`);
    if (result.unchecked.length > 0) out.notice(`${result.unchecked.length} file(s) on the disk were never copied by Lifeboat and are not on the target: not checked (${result.unchecked.slice(0, 3).join(', ')}).`);
    if (damaged.length > 0) {
      throw new LifeboatError(`copy: ${damaged.length} file(s) on ${display} are damaged: ${damaged.map((d) => `${d.name} (${d.why})`).join('; ')}`, {
        code: 'damaged', exitCode: ExitCode.profileCommandFailed, hint: 'add --force to replace them from the target (files the target no longer has cannot be); if it happens again, the disk is failing',
      });
    }
    return 0;
  } finally {
    for (const b of backends) await b.close().catch(() => undefined);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    await release();
  }
};

export default copy;
