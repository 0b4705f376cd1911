// Who hears about a run: NOTIFY_EMAIL (over NOTIFY_SMTP, default the local mail server), NOTIFY_WEBHOOK
// (a JSON POST), NOTIFY_PING (healthchecks-style URL, URL/start, URL/fail); NOTIFY_ON=failure|always.
import { hostname, userInfo } from 'node:os';
import { ProfileError } from '../profile/conf.js';

export interface NotifySettings {
  email: string[];
  smtp: string;
  from: string;
  webhook?: string;
  ping?: string;
  on: 'failure' | 'always';
}

export const DEFAULT_SMTP = 'smtp://localhost:25';

export function notifySettings(vars: Record<string, string | undefined>): NotifySettings {
  const email = (vars.NOTIFY_EMAIL ?? '').split(/[\s,]+/).filter((a) => a !== '');
  for (const address of email) {
    if (!/^[^@\s]+@[^@\s]+$/.test(address)) throw new ProfileError(`NOTIFY_EMAIL: '${address}' is not an e-mail address`, 'e.g. NOTIFY_EMAIL=ops@example.org (several: separated by commas)');
  }
  const smtp = vars.NOTIFY_SMTP || DEFAULT_SMTP;
  if (!/^smtps?:\/\/[^/]/.test(smtp)) throw new ProfileError('NOTIFY_SMTP is not an smtp:// or smtps:// URL', 'e.g. NOTIFY_SMTP=smtp://localhost:25 or smtps://user:password@mail.example.org:465');
  const on = vars.NOTIFY_ON || 'failure';
  if (on !== 'failure' && on !== 'always') throw new ProfileError(`NOTIFY_ON '${on}' is neither failure nor always`, 'NOTIFY_ON=failure (the default) or NOTIFY_ON=always');
  for (const name of ['NOTIFY_WEBHOOK', 'NOTIFY_PING'] as const) {
    const url = vars[name];
    if (url && !/^https?:\/\/[^/]/.test(url)) throw new ProfileError(`${name} is not an http:// or https:// URL`, `e.g. ${name}=https://hc-ping.com/UUID`);
  }
  return {
    email, smtp, on,
    from: vars.NOTIFY_FROM || `lifeboat@${hostname()}`,
    webhook: vars.NOTIFY_WEBHOOK || undefined,
    ping: vars.NOTIFY_PING?.replace(/\/+$/, '') || undefined,
  };
}

export function anyNotification(s: NotifySettings): boolean {
  return s.email.length > 0 || s.webhook !== undefined || s.ping !== undefined;
}

export function runningUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
