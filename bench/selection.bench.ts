// Walk + selection rate: entries per second of walkSource driven by buildSelector over a tree, with
// duplicity-style selection options. Used by bench/selection.sh (not part of npm test).
// Usage: node dist/bench/selection.bench.js ROOT [SELECTION OPTIONS...]
import { parseDuplicityArgv } from '../src/cli/duplicity-argv.js';
import { buildSelector } from '../src/selection/selector.js';
import { walkSource } from '../src/selection/walk.js';

const [root, ...options] = process.argv.slice(2);
if (!root) {
  process.stderr.write('usage: node dist/bench/selection.bench.js ROOT [--exclude GLOB ...]\n');
  process.exit(2);
}
const { options: parsed } = parseDuplicityArgv(['full', ...options, root, 'file:///unused']);
const selection = parsed.selection.length > 0 ? buildSelector(parsed.selection, root, { nullSeparator: parsed.nullSeparator }) : undefined;
const started = process.hrtime.bigint();
let selected = 0;
for await (const _ of walkSource(root, { onWarning: () => undefined, selection })) selected++;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(`${selected} ${seconds.toFixed(3)}\n`);
