// duplicity's `--ssh-options` string ("-oIdentityFile=/k -oPort=2222 -i /k2 -o 'UserKnownHostsFile /f'"):
// the few OpenSSH options an SFTP backend needs. Everything else in the string is ignored, as
// duplicity's paramiko backend ignores it.
import { homedir } from 'node:os';

export type StrictHostKeyChecking = 'yes' | 'no' | 'accept-new';

export interface SshOptions {
  identityFiles: string[];
  /** OpenSSH takes a list of files here; the first one is where accept-new records keys */
  userKnownHostsFiles?: string[];
  globalKnownHostsFiles?: string[];
  port?: number;
  strictHostKeyChecking?: StrictHostKeyChecking;
}

export class SshOptionsError extends Error {}

/** Splits like a POSIX shell does for words: quotes and backslashes, no expansions. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new SshOptionsError('unbalanced single quote');
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let part = '';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1])) j++;
        part += text[j];
      }
      if (j >= text.length) throw new SshOptionsError('unbalanced double quote');
      word = (word ?? '') + part;
      i = j;
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

function expandHome(path: string, home: string): string {
  return path === '~' ? home : path.startsWith('~/') ? `${home}${path.slice(1)}` : path;
}

export function parseSshOptions(text: string | undefined, home = homedir()): SshOptions {
  const options: SshOptions = { identityFiles: [] };
  if (!text) return options;
  const words = splitWords(text);
  const settings: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const next = (): string => {
      if (i + 1 >= words.length) throw new SshOptionsError(`${w} needs a value`);
      return words[++i];
    };
    if (w === '-o') settings.push(next());
    else if (w.startsWith('-o')) settings.push(w.slice(2));
    else if (w === '-i') settings.push(`IdentityFile=${next()}`);
    else if (w.startsWith('-i')) settings.push(`IdentityFile=${w.slice(2)}`);
    else if (w === '-p') settings.push(`Port=${next()}`);
    else if (/^-p\d+$/.test(w)) settings.push(`Port=${w.slice(2)}`);
  }
  // as in OpenSSH, the first value of a setting wins; identity files add up
  for (const setting of settings) {
    // ssh_config syntax: "Key=value", "Key value" or "Key = value"; keys are case-insensitive
    const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*?)\s*$/s.exec(setting);
    if (!m) throw new SshOptionsError(`cannot read the ssh option "${setting}"`);
    const key = m[1].toLowerCase();
    const value = m[2];
    switch (key) {
      case 'identityfile':
        options.identityFiles.push(expandHome(value, home));
        break;
      case 'userknownhostsfile':
        options.userKnownHostsFiles ??= splitWords(value).map((f) => expandHome(f, home));
        break;
      case 'globalknownhostsfile':
        options.globalKnownHostsFiles ??= splitWords(value).map((f) => expandHome(f, home));
        break;
      case 'port': {
        const port = Number(value);
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SshOptionsError(`bad port "${value}"`);
        options.port ??= port;
        break;
      }
      case 'stricthostkeychecking': {
        const v = value.toLowerCase();
        if (v === 'no' || v === 'off') options.strictHostKeyChecking ??= 'no';
        else if (v === 'accept-new') options.strictHostKeyChecking ??= 'accept-new';
        else if (v === 'yes' || v === 'ask') options.strictHostKeyChecking ??= 'yes';
        else throw new SshOptionsError(`bad StrictHostKeyChecking value "${value}"`);
        break;
      }
      default:
        break;
    }
  }
  return options;
}
