#!/usr/bin/env -S LIFEBOAT_CALLER_ARENA_MAX=${MALLOC_ARENA_MAX} MALLOC_ARENA_MAX=1 node --max-semi-space-size=2
// The one place that sets the process's exit status; everything else returns it.
// The first line gives node a small young generation and glibc's malloc one arena for all threads
// (peak RSS: bench/README.md; src/profile/duplicity-child.ts starts a profile's backups the same way);
// the programs Lifeboat runs get the caller's MALLOC_ARENA_MAX back (an empty one comes back unset:
// `env -S` cannot tell the two apart, and glibc ignores an empty value).
if (process.env.LIFEBOAT_CALLER_ARENA_MAX !== undefined) {
  const caller = process.env.LIFEBOAT_CALLER_ARENA_MAX;
  delete process.env.LIFEBOAT_CALLER_ARENA_MAX;
  if (caller === '') delete process.env.MALLOC_ARENA_MAX;
  else process.env.MALLOC_ARENA_MAX = caller;
}
let main;
try {
  ({ main } = await import('../dist/src/cli/main.js'));
} catch (err) {
  process.stderr.write(`lifeboat: the program is not built: ${err.message}\nhint: run "npm ci" in ${new URL('..', import.meta.url).pathname}\n`);
  process.exit(30);
}
process.exitCode = await main(process.argv.slice(2));
