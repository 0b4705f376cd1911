// Sends the notifications of a run. Each channel fails on its own: the failure is reported on stderr
// (with any password or token hidden) and never changes the run's exit code.
import { createTransport } from 'nodemailer';
import { redactUrl } from '../backend/url.js';
import { jsonOf, subjectOf, textOf, type RunReport } from './report.js';
import type { NotifySettings } from './settings.js';

const TIMEOUT_MS = 15_000;

export type Warn = (line: string) => void;

/** healthchecks' /start ping, before the routine runs. */
export async function notifyStart(s: NotifySettings, warn: Warn): Promise<void> {
  if (s.ping) await guarded('ping', s, warn, () => ping(`${s.ping}/start`, ''));
}

export async function notifyEnd(s: NotifySettings, report: RunReport, warn: Warn): Promise<void> {
  const failed = report.status === 'failure';
  const tasks: Promise<void>[] = [];
  if (s.ping) tasks.push(guarded('ping', s, warn, () => ping(failed ? `${s.ping}/fail` : s.ping!, textOf(report))));
  if (failed || s.on === 'always') {
    if (s.email.length > 0) tasks.push(guarded('e-mail', s, warn, () => sendMail(s, report)));
    if (s.webhook) tasks.push(guarded('webhook', s, warn, () => postJson(s.webhook!, jsonOf(report))));
  }
  await Promise.all(tasks);
}

async function guarded(channel: string, s: NotifySettings, warn: Warn, send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (err) {
    warn(`lifeboat: the ${channel} notification failed (the run's own result is unchanged): ${hideSecrets((err as Error).message, s)}`);
  }
}

async function sendMail(s: NotifySettings, report: RunReport): Promise<void> {
  // the local mail server often offers STARTTLS with a self-signed (snakeoil) certificate, which would
  // fail verification; on the loopback interface TLS protects nothing, so it is not used there
  const loopback = /^smtp:\/\/(?:[^@/]*@)?(?:localhost|127(?:\.\d+){3}|\[::1\])(?::\d+)?\/?$/i.test(s.smtp);
  const transport = createTransport({ url: s.smtp, ignoreTLS: loopback, connectionTimeout: TIMEOUT_MS, greetingTimeout: TIMEOUT_MS, socketTimeout: TIMEOUT_MS });
  try {
    await transport.sendMail({ from: s.from, to: s.email, subject: subjectOf(report), text: textOf(report) });
  } finally {
    transport.close();
  }
}

async function postJson(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${shownUrl(url)} answered ${res.status} ${res.statusText}`);
}

async function ping(url: string, body: string): Promise<void> {
  // healthchecks keeps a POST body (up to 100 kB) as the ping's log
  const res = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${shownUrl(url)} answered ${res.status} ${res.statusText}`);
}

/** A webhook or ping URL as printed: its path holds the token (a healthchecks UUID), so only the host. */
export function shownUrl(url: string): string {
  try {
    return `${new URL(url).origin}/...`;
  } catch {
    return '(the URL)';
  }
}

/** Error texts may quote a URL: passwords, tokens and paths of the configured URLs are hidden. */
export function hideSecrets(text: string, s: NotifySettings): string {
  let out = text;
  const secrets: string[] = [];
  try {
    const u = new URL(s.smtp);
    if (u.password) secrets.push(u.password, decodeURIComponent(u.password));
  } catch { /* not parsed: redactUrl below still applies */ }
  for (const url of [s.webhook, s.ping]) {
    if (!url) continue;
    try {
      const u = new URL(url);
      if (u.pathname.length > 1) secrets.push(u.pathname.slice(1));
      if (u.search) secrets.push(u.search);
      if (u.password) secrets.push(u.password);
    } catch { /* ignored */ }
  }
  out = out.split(s.smtp).join(redactUrl(s.smtp));
  for (const secret of secrets.filter((x) => x.length >= 3).sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out;
}
