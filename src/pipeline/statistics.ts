// The "Backup Statistics" block duplicity prints after a backup (specs §9.3), with its counters.
import { formatHumanTime } from '../duplicity/time.js';

export class BackupStatistics {
  readonly startTime = Date.now() / 1000;
  endTime = 0;
  sourceFiles = 0;
  sourceFileSize = 0;
  newFiles = 0;
  newFileSize = 0;
  deletedFiles = 0;
  changedFiles = 0;
  changedFileSize = 0;
  changedDeltaSize = 0;
  deltaEntries = 0;
  rawDeltaSize = 0;
  totalDestinationSizeChange = 0;
  /** files that could not be read and were left out */
  errors = 0;

  finish(storedBytes: number): void {
    this.endTime = Date.now() / 1000;
    this.totalDestinationSizeChange = storedBytes;
  }

  format(timeZone?: string): string {
    const elapsed = this.endTime - this.startTime;
    const lines = [
      `StartTime ${this.startTime.toFixed(2)} (${formatHumanTime(Math.floor(this.startTime), timeZone)})`,
      `EndTime ${this.endTime.toFixed(2)} (${formatHumanTime(Math.floor(this.endTime), timeZone)})`,
      `ElapsedTime ${elapsed.toFixed(2)} (${formatDuration(elapsed)})`,
      `SourceFiles ${this.sourceFiles}`,
      `SourceFileSize ${this.sourceFileSize} (${formatBytes(this.sourceFileSize)})`,
      `NewFiles ${this.newFiles}`,
      `NewFileSize ${this.newFileSize} (${formatBytes(this.newFileSize)})`,
      `DeletedFiles ${this.deletedFiles}`,
      `ChangedFiles ${this.changedFiles}`,
      `ChangedFileSize ${this.changedFileSize} (${formatBytes(this.changedFileSize)})`,
      `ChangedDeltaSize ${this.changedDeltaSize} (${formatBytes(this.changedDeltaSize)})`,
      `DeltaEntries ${this.deltaEntries}`,
      `RawDeltaSize ${this.rawDeltaSize} (${formatBytes(this.rawDeltaSize)})`,
      `TotalDestinationSizeChange ${this.totalDestinationSizeChange} (${formatBytes(this.totalDestinationSizeChange)})`,
      `Errors ${this.errors}`,
    ];
    const header = '--------------[ Backup Statistics ]--------------';
    return [header, ...lines, '-'.repeat(header.length)].join('\n') + '\n';
  }
}

const units: [number, string][] = [[1024 ** 4, 'TB'], [1024 ** 3, 'GB'], [1024 ** 2, 'MB'], [1024, 'KB']];

/** Three significant figures with duplicity's unit names: "3.44 MB", "512 bytes", "1 byte". */
export function formatBytes(count: number): string {
  const sign = count < 0 ? '-' : '';
  const n = Math.abs(count);
  for (const [size, unit] of units) {
    if (n >= size) {
      const v = n / size;
      return `${sign}${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${unit}`;
    }
  }
  return n === 1 ? `${sign}1 byte` : `${sign}${Math.round(n)} bytes`;
}

/** "0.08 seconds", "1 minute 5.00 seconds", as duplicity words elapsed times. */
export function formatDuration(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [size, unit] of [[86400, 'day'], [3600, 'hour'], [60, 'minute']] as const) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      rest -= n * size;
      parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
    }
  }
  parts.push(`${rest.toFixed(2)} seconds`);
  return parts.join(' ');
}
