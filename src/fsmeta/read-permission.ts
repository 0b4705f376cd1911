// Whether the walk must ask access(R_OK) about an object, or the answer is known to be yes.
// duplicity leaves out what access(R_OK) refuses, so the walk asks for every file and directory: a
// system call per object, a tenth of a no-change incremental. For root in the initial user namespace,
// holding CAP_DAC_READ_SEARCH or CAP_DAC_OVERRIDE in its permitted set (access() runs with those when
// the real uid is 0), on a file system whose permission checks are the kernel's generic ones, access()
// cannot refuse: the capability overrides mode bits and ACLs. Anything else (another user, dropped
// capabilities, a user namespace, NFS, FUSE, overlayfs, procfs) is still asked.
import { accessSync, constants, readFileSync, statfsSync } from 'node:fs';

/** statfs f_type of local disk and memory file systems that use generic_permission() only */
const GENERIC_PERMISSION_FILESYSTEMS = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
]);

const CAP_DAC_OVERRIDE = 1n;
const CAP_DAC_READ_SEARCH = 2n;

export interface ProcessCredentials {
  uid: number;
  /** the text of /proc/self/status */
  status: string;
  /** the text of /proc/self/uid_map */
  uidMap: string;
}

/** True when access(R_OK) cannot refuse this process on a generic-permission file system. */
export function capabilitiesOverrideReads(creds: ProcessCredentials): boolean {
  if (creds.uid !== 0) return false;
  // the initial namespace maps every uid to itself; in any other, root's capabilities stop at unmapped owners
  if (creds.uidMap.trim().split(/\s+/).join(' ') !== '0 0 4294967295') return false;
  const permitted = /^CapPrm:\s*([0-9a-f]+)$/m.exec(creds.status)?.[1];
  if (permitted === undefined) return false;
  const caps = BigInt(`0x${permitted}`);
  return ((caps >> CAP_DAC_READ_SEARCH) & 1n) === 1n || ((caps >> CAP_DAC_OVERRIDE) & 1n) === 1n;
}

function ownCredentials(): ProcessCredentials | null {
  try {
    return { uid: process.getuid?.() ?? -1, status: readFileSync('/proc/self/status', 'utf8'), uidMap: readFileSync('/proc/self/uid_map', 'utf8') };
  } catch {
    return null; // no procfs: ask every time
  }
}

/** A checker for one walk: `readable(path, dev)` is duplicity's os.access(path, R_OK). */
export function readPermissionChecker(creds: ProcessCredentials | null = ownCredentials()): (path: Buffer, dev: number) => boolean {
  const overrides = creds !== null && capabilitiesOverrideReads(creds);
  /** per st_dev: whether that file system's permission checks are generic */
  const generic = new Map<number, boolean>();
  return (path, dev) => {
    if (overrides) {
      let known = generic.get(dev);
      if (known === undefined) {
        try {
          known = GENERIC_PERMISSION_FILESYSTEMS.has(statfsSync(path).type);
        } catch {
          known = false;
        }
        generic.set(dev, known);
      }
      if (known) return true;
    }
    try {
      accessSync(path, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  };
}
