// Verbosity as duplicity's -v takes it (0-9, or e/w/n/i/d) and as duply's VERBOSITY words.
import { UsageError } from '../errors/lifeboat-error.js';

/** duplicity's log levels: the numbers it prints and accepts */
export const Level = { error: 0, warning: 2, notice: 3, info: 5, debug: 9 } as const;
export type LevelNumber = number;

const byLetter: Record<string, number> = {
  e: Level.error, error: Level.error,
  w: Level.warning, warning: Level.warning,
  n: Level.notice, notice: Level.notice,
  i: Level.info, info: Level.info,
  d: Level.debug, debug: Level.debug,
};

/** Parses "0".."9", "e|w|n|i|d" or the words error|warning|notice|info|debug (any case). */
export function parseVerbosity(text: string): LevelNumber {
  const t = text.trim().toLowerCase();
  if (/^[0-9]$/.test(t)) return Number(t);
  const level = byLetter[t];
  if (level === undefined) {
    throw new UsageError(`bad verbosity "${text}"`, 'use 0-9, e, w, n, i, d, or error, warning, notice, info, debug');
  }
  return level;
}
