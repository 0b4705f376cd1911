// Tests that need a real program (rdiff, duplicity, gpg, a server) call requireProgram(): on a
// developer's machine a missing program skips the test loudly; under CI=true it fails the test.
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

const found = new Map<string, boolean>();

export function hasProgram(name: string): boolean {
  let ok = found.get(name);
  if (ok === undefined) {
    ok = spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
    found.set(name, ok);
  }
  return ok;
}

export function isCi(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

/** Returns true when the program is there; otherwise skips (locally) or throws (under CI=true). */
export function requireProgram(t: TestContext, name: string, debianPackage = name): boolean {
  if (hasProgram(name)) return true;
  const message = `${name} is not installed (Debian package "${debianPackage}"): this oracle test cannot run`;
  if (isCi()) throw new Error(`${message}; CI=true forbids skipping it`);
  process.stderr.write(`\n*** SKIPPED: ${message} ***\n\n`);
  t.skip(message);
  return false;
}

/** Like requireProgram, for a Python module that a program needs (duplicity's boto3 backend). */
export function requirePythonModule(t: TestContext, module: string, debianPackage: string): boolean {
  const key = `python3:${module}`;
  let ok = found.get(key);
  if (ok === undefined) {
    ok = spawnSync('python3', ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
    found.set(key, ok);
  }
  if (ok) return true;
  const message = `the Python module ${module} is not installed (Debian package "${debianPackage}"): this oracle test cannot run`;
  if (isCi()) throw new Error(`${message}; CI=true forbids skipping it`);
  process.stderr.write(`\n*** SKIPPED: ${message} ***\n\n`);
  t.skip(message);
  return false;
}
