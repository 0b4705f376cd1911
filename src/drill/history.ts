// Drill records live next to the backups, so any machine that can read the target sees when the
// last drill passed. duplicity ignores files whose names are not its own.
import { Readable } from 'node:stream';
import type { Backend } from '../backend/types.js';

export const DRILL_PREFIX = 'lifeboat-drill.';

export interface DrillRecord {
  /** when the drill ran, epoch seconds */
  time: number;
  ok: boolean;
  /** the backup time restored, epoch seconds */
  backupTime: number;
  sample?: number;
  files: number;
  bytes: number;
  seconds: number;
  mismatches: number;
  databases: { name: string; ok: boolean; message?: string }[];
  host: string;
}

export function drillRecordName(time: number): string {
  return `${DRILL_PREFIX}${new Date(time * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.json`;
}

export async function saveDrillRecord(backend: Backend, record: DrillRecord): Promise<string> {
  const name = drillRecordName(record.time);
  const data = Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
  await backend.put(name, { size: data.length, open: () => Readable.from([data]) });
  return name;
}

/** The newest successful drill among the target's files, read from the target. */
export async function lastSuccessfulDrill(backend: Backend, remoteNames: readonly string[]): Promise<DrillRecord | undefined> {
  const names = remoteNames.filter((n) => n.startsWith(DRILL_PREFIX) && n.endsWith('.json')).sort().reverse();
  for (const name of names) {
    const record = await backend.read(name, async (body) => {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      try {
        return JSON.parse(Buffer.concat(chunks).toString()) as DrillRecord;
      } catch {
        return undefined;
      }
    });
    if (record?.ok) return record;
  }
  return undefined;
}
