// Backup set times are whole seconds: a purge or restore "now" right after a backup can fall in the
// same second as it, and then that backup's chain is not older than "now". Tests that need it to be
// wait for the next second first.

/** Resolves just after the wall clock enters the next second. */
export function nextSecond(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1020 - (Date.now() % 1000)));
}
