#!/usr/bin/env -S node --max-semi-space-size=2
// The one place that sets the process's exit status; everything else returns it.
let main;
try {
  ({ main } = await import('../dist/src/cli/main.js'));
} catch (err) {
  process.stderr.write(`lifeboat: the program is not built: ${err.message}\nhint: run "npm ci" in ${new URL('..', import.meta.url).pathname}\n`);
  process.exit(30);
}
process.exitCode = await main(process.argv.slice(2));
