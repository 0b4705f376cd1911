// Summarises a V8 CPU profile (`node --cpu-prof`): self time per function, and the time spent idle
// or in the garbage collector, the way bench/README.md reports what limits each step.
// Usage: node dist/bench/profile-summary.js FILE.cpuprofile [TOP]   (default TOP 20)
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

function main(file: string, top: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map<string, number>();
  // each sample's time is the delta to the next sample, so the last one has none
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${basename(url)}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    selfMicros.set(key, (selfMicros.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  console.log(`| self % | self s | function |`);
  console.log(`| ---: | ---: | --- |`);
  for (const [key, micros] of [...selfMicros].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`| ${((100 * micros) / total).toFixed(1)} | ${(micros / 1e6).toFixed(2)} | \`${key}\` |`);
  }
  console.log(`\nprofiled: ${(total / 1e6).toFixed(1)} s of the main thread`);
}

main(process.argv[2], Number(process.argv[3] ?? 20));
