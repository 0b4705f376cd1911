// User and group names for numeric ids and back, read from /etc/passwd and /etc/group without native code.
//
// Only the local files are read. Accounts that NSS serves from elsewhere (LDAP, SSSD, NIS, systemd's
// dynamic users) are not seen, whereas duplicity (via Python's pwd/grp) sees them. Consequences:
// backing up, such owners get an empty uname/gname, so a restore elsewhere falls back to the numeric id
// instead of the name; restoring, a name known only to LDAP is not resolved and the archived numeric id
// is used, which is wrong if the ids differ between machines (spec §13.13). Change detection compares
// numeric ids, so it is not affected on the machine that made the backup.
import { readFile } from 'node:fs/promises';

export interface NameFiles {
  passwd: string;
  group: string;
}

export class NameDatabase {
  #userById = new Map<number, string>();
  #userByName = new Map<string, number>();
  #groupById = new Map<number, string>();
  #groupByName = new Map<string, number>();

  /** Builds the maps from the text of a passwd and a group file (same field layout: name:pw:id:...). */
  static parse(passwdText: string, groupText: string): NameDatabase {
    const db = new NameDatabase();
    addEntries(passwdText, db.#userById, db.#userByName);
    addEntries(groupText, db.#groupById, db.#groupByName);
    return db;
  }

  /** Reads the files; a missing or unreadable file counts as empty (every name then is ''). */
  static async load(files: NameFiles = { passwd: '/etc/passwd', group: '/etc/group' }): Promise<NameDatabase> {
    const [passwd, group] = await Promise.all([readOrEmpty(files.passwd), readOrEmpty(files.group)]);
    return NameDatabase.parse(passwd, group);
  }

  /** '' when the uid has no name, as duplicity writes it into tar headers. */
  userName(uid: number): string {
    return this.#userById.get(uid) ?? '';
  }

  groupName(gid: number): string {
    return this.#groupById.get(gid) ?? '';
  }

  uidOf(name: string): number | undefined {
    return name === '' ? undefined : this.#userByName.get(name);
  }

  gidOf(name: string): number | undefined {
    return name === '' ? undefined : this.#groupByName.get(name);
  }
}

let system: Promise<NameDatabase> | undefined;

/** The local databases, read once per process: a backup asks for every file's owner. */
export function systemNames(): Promise<NameDatabase> {
  system ??= NameDatabase.load();
  return system;
}

export interface OwnerFields {
  uid: number;
  gid: number;
  uname: string;
  gname: string;
}

/**
 * The ids an archived owner maps to here: the name wins when it is known locally, the numeric id is
 * the fallback (spec §13.13, duplicity's restore and change detection); `numericOwner` uses the ids only.
 */
export function resolveOwner(owner: OwnerFields, names: NameDatabase, numericOwner = false): { uid: number; gid: number } {
  if (numericOwner) return { uid: owner.uid, gid: owner.gid };
  return { uid: names.uidOf(owner.uname) ?? owner.uid, gid: names.gidOf(owner.gname) ?? owner.gid };
}

function addEntries(text: string, byId: Map<number, string>, byName: Map<string, number>): void {
  for (const line of text.split('\n')) {
    // '+'/'-' lines are NIS compat markers, not accounts
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const fields = line.split(':');
    if (fields.length < 3 || fields[0] === '' || !/^\d+$/.test(fields[2])) continue;
    const id = Number(fields[2]);
    if (!Number.isSafeInteger(id)) continue;
    // getpwuid/getpwnam return the first match in file order; later duplicates must not win
    if (!byId.has(id)) byId.set(id, fields[0]);
    if (!byName.has(fields[0])) byName.set(fields[0], id);
  }
}

async function readOrEmpty(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}
