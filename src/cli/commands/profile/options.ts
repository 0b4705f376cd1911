// The options of Lifeboat's own profile commands; a wrong one is the profile layer's usage error (255).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ProfileError } from '../../../profile/conf.js';

export function profileCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(command: string, rest: string[], options: O, maxPositionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ProfileError(`${command}: ${(err as Error).message.split('\n')[0]}`, 'see "lifeboat usage"');
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new ProfileError(`${command}: unexpected argument '${parsed.positionals[maxPositionals]}'`, 'see "lifeboat usage"');
  }
  return parsed;
}
