// What a notification says about one run of the routine.
export interface RunReport {
  profile: string;
  host: string;
  status: 'success' | 'failure';
  exitCode: number;
  started: Date;
  finished: Date;
  /** the run's stderr (its last part when long): the errors */
  errors: string;
  logFile: string;
}

export function subjectOf(r: RunReport): string {
  return r.status === 'success'
    ? `Lifeboat: backup of '${r.profile}' on ${r.host} succeeded`
    : `Lifeboat: backup of '${r.profile}' on ${r.host} FAILED (exit code ${r.exitCode})`;
}

export function textOf(r: RunReport): string {
  return `${subjectOf(r)}

Profile:  ${r.profile}
Host:     ${r.host}
Started:  ${r.started.toISOString()}
Finished: ${r.finished.toISOString()}
Exit:     ${r.exitCode}
Log:      ${r.logFile}

${r.errors.trim() === '' ? 'Nothing was written to stderr.' : `Errors (stderr):\n${r.errors}`}
`;
}

export function jsonOf(r: RunReport): Record<string, unknown> {
  return {
    source: 'lifeboat', profile: r.profile, host: r.host, status: r.status, exitCode: r.exitCode,
    started: r.started.toISOString(), finished: r.finished.toISOString(), errors: r.errors, logFile: r.logFile,
  };
}

/** Keeps the last `limit` bytes of a stream of text: the errors at the end are the ones that matter. */
export class TailBuffer {
  private chunks: string[] = [];
  private size = 0;
  private dropped = false;
  constructor(private readonly limit = 64 * 1024) {}

  push(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
      this.dropped = true;
    }
  }

  text(): string {
    const joined = this.chunks.join('');
    const cut = joined.length > this.limit ? joined.slice(-this.limit) : joined;
    return this.dropped || cut.length < joined.length ? `[...]\n${cut}` : cut;
  }
}
