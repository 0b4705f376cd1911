// duply's command batches: `pre+bkp_post`, `backup`, `[pre_bkp]-post`, `purgeAuto` (specs/duply.md §1.4,
// §9). Two of duply's plain bugs are fixed here, as docs/duply-compatibility.md lists: brackets next to
// separators no longer make empty "unknown" commands, and a failed condition skips exactly the next
// command or group, not one token more. CMD_PREV keeps duply's arithmetic, since scripts see it.
import { ProfileError } from './conf.js';

export const REAL_COMMANDS = [
  'pre', 'post', 'bkp', 'full', 'incr', 'verify', 'verifypath', 'list', 'status', 'restore', 'fetch',
  'purge', 'purgefull', 'purgeincr', 'cleanup',
] as const;
const PSEUDO = new Set(['and', 'or', 'groupin', 'groupout']);

export interface RetentionSettings {
  maxAge?: string;
  maxFullBackups?: string;
  maxFullsWithIncrs?: string;
}

/** The batch word as typed -> lower-case tokens with the macros expanded; unknown words are fatal here. */
export function expandBatch(batch: string, retention: RetentionSettings): string[] {
  if (batch === '') throw new ProfileError('No command given.', 'e.g. "lifeboat PROFILE backup"; see "lifeboat usage"');
  const pieces = batch.split('_');
  if (pieces.length > 1 && pieces.at(-1) === '') pieces.pop();
  const tokens: string[] = [];
  for (const piece of pieces) {
    if (piece === '') throw new ProfileError("Unknown command ''.", 'two separators in a row ("__") leave an empty command');
    // +, -, [ and ] are separators of their own; around them no empty command is made
    for (const word of piece.replace(/\+/g, '_and_').replace(/-/g, '_or_').replace(/\[/g, '_groupin_').replace(/\]/g, '_groupout_').split('_')) {
      if (word !== '') tokens.push(word.toLowerCase());
    }
  }
  const expanded: string[] = [];
  for (const token of tokens) {
    if (token === 'backup') expanded.push('groupin', 'pre', 'bkp', 'post', 'groupout');
    else if (token === 'purgeauto') {
      const parts = [retention.maxAge && 'purge', retention.maxFullBackups && 'purgefull', retention.maxFullsWithIncrs && 'purgeincr'].filter(Boolean) as string[];
      if (parts.length === 0) {
        throw new ProfileError('Command \'purgeAuto\' was given but neither of the purge conf vars configured.', 'set MAX_AGE, MAX_FULL_BACKUPS or MAX_FULLS_WITH_INCRS in the conf');
      }
      expanded.push('groupin', ...parts, 'groupout');
    } else if (PSEUDO.has(token) || (REAL_COMMANDS as readonly string[]).includes(token)) {
      expanded.push(token);
    } else {
      throw new ProfileError(`Unknown command '${token}'.`, 'see "lifeboat usage" for the commands');
    }
  }
  return expanded;
}

export function isReal(token: string): boolean {
  return !PSEUDO.has(token);
}

/** How many tokens after `i` a failed condition skips: up to the next command, or its whole group. */
export function conditionSpan(tokens: string[], i: number): number {
  let depth = 0;
  let count = 0;
  for (let j = i + 1; j < tokens.length; j++) {
    count++;
    const t = tokens[j];
    if (t === 'groupin') depth++;
    else if (t === 'groupout') {
      depth--;
      if (depth < 1) break;
    } else if (isReal(t) && t !== 'and' && t !== 'or' && depth === 0) break;
  }
  return count;
}

export interface TokenContext {
  CMD_PREV: string;
  CMD_NEXT: string;
  CND_PREV?: string;
  CND_NEXT?: string;
}

/** duply's CMD_PREV/CMD_NEXT/CND_PREV/CND_NEXT for token `i` (specs/duply.md §9.2), shift included. */
export function tokenContext(tokens: string[], i: number, skipped: number): TokenContext {
  let cmdNext = 'END';
  let cndNext: string | undefined;
  for (let j = i + 1; j < tokens.length; j++) {
    const t = tokens[j];
    if (t === 'and' || t === 'or') cndNext = t;
    else if (isReal(t)) { cmdNext = t; break; }
  }
  let cndPrev: string | undefined;
  for (let j = i - 1; j >= 0; j--) {
    const t = tokens[j];
    if (t === 'and' || t === 'or') { cndPrev = t; break; }
    if (isReal(t)) break;
  }
  let cmdPrev = 'START';
  for (let j = i - skipped - 1; j >= 0; j--) {
    const t = tokens[j];
    if (t === 'and' || t === 'or') cndPrev = t;
    else if (isReal(t)) { cmdPrev = t; break; }
  }
  return { CMD_PREV: cmdPrev, CMD_NEXT: cmdNext, CND_PREV: cndPrev, CND_NEXT: cndNext };
}

export interface BatchCallbacks {
  preview: boolean;
  /** runs one real command; resolves to its exit status */
  execute(token: string, context: TokenContext & { CMD_ERR?: string }): Promise<number>;
  skipped(token: string): void;
}

/** Runs the tokens with duply's conditions; true when every executed command succeeded. */
export async function runBatch(tokens: string[], callbacks: BatchCallbacks): Promise<boolean> {
  let cmdErr: number | undefined;
  let skip = 0;
  let skipped = 0;
  let failed = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const context = tokenContext(tokens, i, skipped);
    if (skip > 0) {
      if (isReal(t)) callbacks.skipped(t);
      skip--;
      skipped++;
      continue;
    }
    if (!callbacks.preview && cmdErr !== undefined && ((t === 'and' && cmdErr !== 0) || (t === 'or' && cmdErr === 0))) {
      skip = conditionSpan(tokens, i);
      skipped = 1;
      continue;
    }
    if (!isReal(t)) {
      skipped++;
      continue;
    }
    cmdErr = await callbacks.execute(t, { ...context, CMD_ERR: cmdErr === undefined ? undefined : String(cmdErr) });
    if (cmdErr !== 0) failed = true;
  }
  return !failed;
}
