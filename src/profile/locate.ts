// Where `lifeboat <profile> ...` finds a profile (docs/profiles.md): a name containing "/" is a path;
// a bare name is looked up in /etc/lifeboat (root), ~/.lifeboat, ~/.duply, then /etc/duply (root).
// Unlike duply, a place is used only when it holds that profile, so ~/.duply never hides /etc/duply.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

export interface ProfilePaths {
  /** as typed */
  argument: string;
  /** the profile's name: the last path component of its directory */
  name: string;
  dir: string;
  conf: string;
  exclude: string;
  pre: string;
  post: string;
  keyfile: string;
}

export interface LookupEnv {
  home: string;
  isRoot: boolean;
  /** test hook: where /etc lives */
  etc: string;
}

export function defaultLookupEnv(): LookupEnv {
  return { home: process.env.HOME || homedir(), isRoot: process.geteuid?.() === 0, etc: process.env.LIFEBOAT_ETC || '/etc' };
}

/** The places searched for a bare profile name, in order. */
export function profilePlaces(env: LookupEnv): string[] {
  const places: string[] = [];
  if (env.isRoot) places.push(join(env.etc, 'lifeboat'));
  places.push(join(env.home, '.lifeboat'), join(env.home, '.duply'));
  if (env.isRoot) places.push(join(env.etc, 'duply'));
  return places;
}

/** Where `create` puts a new profile given by bare name. */
export function createPlace(env: LookupEnv): string {
  return env.isRoot ? join(env.etc, 'lifeboat') : join(env.home, '.lifeboat');
}

export function pathsOf(argument: string, dir: string): ProfilePaths {
  const clean = dir.replace(/\/+$/, '') || '/';
  return {
    argument, name: basename(clean), dir: clean,
    conf: join(clean, 'conf'), exclude: join(clean, 'exclude'), pre: join(clean, 'pre'), post: join(clean, 'post'),
    keyfile: join(clean, 'gpgkey.asc'),
  };
}

/** The profile's directory, found or (when `forCreate`) where it would be created; undefined when not found. */
export function locateProfile(argument: string, env: LookupEnv, forCreate = false): ProfilePaths | undefined {
  if (argument.includes('/')) {
    let dir: string;
    try {
      dir = realpathSync(argument);
    } catch {
      dir = resolve(argument);
    }
    return pathsOf(argument, dir);
  }
  for (const place of profilePlaces(env)) {
    const dir = join(place, argument);
    if (isDirectory(dir)) return pathsOf(argument, dir);
  }
  return forCreate ? pathsOf(argument, join(createPlace(env), argument)) : undefined;
}

/** Every profile name in every place, for the "not found" hint. */
export function availableProfiles(env: LookupEnv, near?: string): string[] {
  const places = near ? [dirname(near)] : profilePlaces(env);
  const names = new Set<string>();
  for (const place of places) {
    if (!existsSync(place)) continue;
    try {
      for (const entry of readdirSync(place, { withFileTypes: true })) if (entry.isDirectory()) names.add(entry.name);
    } catch { /* an unreadable place has no profiles for us */ }
  }
  return [...names].sort();
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
