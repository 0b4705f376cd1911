// Where duplicity 0.8.22's sample archives are: $LIFEBOAT_SAMPLES, else ../shared beside the checkout
// (every developer machine and CI run has it there), else /work/shared.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function samplesDir(): string {
  if (process.env.LIFEBOAT_SAMPLES) return process.env.LIFEBOAT_SAMPLES;
  // dist/test/support/samples.js -> <checkout>/../shared
  const beside = fileURLToPath(new URL('../../../../shared/samples/duplicity-0.8', import.meta.url));
  return existsSync(beside) ? beside : '/work/shared/samples/duplicity-0.8';
}
