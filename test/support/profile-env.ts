// A throwaway home for profile tests: HOME, /etc (LIFEBOAT_ETC) and caches under one temp dir, and a
// runner for `lifeboat PROFILE ...` as a child process.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lifeboatBin, type Run } from './run.js';

export interface ProfileHome {
  root: string;
  env: NodeJS.ProcessEnv;
  /** writes <dir>/conf (and an exclude) for a profile at a path; returns the dir */
  profile(name: string, conf: string, exclude?: string): string;
  lifeboat(args: string[], extraEnv?: NodeJS.ProcessEnv): Run;
  lifeboatAsync(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<Run>;
}

export function profileHome(label: string): ProfileHome {
  const root = mkdtempSync(join(tmpdir(), `lifeboat-${label}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env, HOME: join(root, 'home'), LIFEBOAT_ETC: join(root, 'etc'), XDG_CACHE_HOME: join(root, 'cache'),
    TZ: 'UTC', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8',
  };
  mkdirSync(join(root, 'home'), { recursive: true });
  const collect = (r: ReturnType<typeof spawnSync>, args: string[]): Run => ({
    code: r.status ?? 128, stdout: String(r.stdout), stdoutBytes: Buffer.from(String(r.stdout)), stderr: String(r.stderr), command: `lifeboat ${args.join(' ')}`,
  });
  return {
    root, env,
    profile(name, conf, exclude = '') {
      const dir = join(root, 'profiles', name);
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o700);
      writeFileSync(join(dir, 'conf'), conf, { mode: 0o600 });
      writeFileSync(join(dir, 'exclude'), exclude, { mode: 0o600 });
      return dir;
    },
    lifeboat(args, extraEnv = {}) {
      return collect(spawnSync(process.execPath, [lifeboatBin, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8' }), args);
    },
    lifeboatAsync(args, extraEnv = {}) {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [lifeboatBin, ...args], { env: { ...env, ...extraEnv } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => { stdout += c; });
        child.stderr.on('data', (c) => { stderr += c; });
        child.on('close', (code) => resolve({ code: code ?? 128, stdout, stdoutBytes: Buffer.from(stdout), stderr, command: `lifeboat ${args.join(' ')}` }));
      });
    },
  };
}
