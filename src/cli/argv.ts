// Thin wrapper over node:util parseArgs that turns its TypeErrors into one-line usage errors.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors/lifeboat-error.js';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

export function parseCommandLine<T extends OptionsConfig>(args: string[], options: T, command: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      const first = e.message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '');
      throw new UsageError(`${command}: ${first.replace(/\.$/, '')}`, `run "lifeboat ${command} --help" for usage`);
    }
    throw err;
  }
}

/** Parses a whole number option such as a block size; rejects "12abc", negatives and fractions. */
export function parseCount(value: string | undefined, what: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(`bad ${what} "${value}"`, `give a whole number of at least ${min}`);
  }
  return Number(value);
}
