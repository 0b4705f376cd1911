// What a command gets from the CLI: its output channels and standard streams, so tests can run
// commands in-process with captured output.
import type { Output } from './output.js';

export interface CommandContext {
  readonly out: Output;
  /** -v was given before the command: it wins over a profile's VERBOSITY */
  readonly verbosityGiven?: boolean;
  readonly stdin: AsyncIterable<Uint8Array>;
  /** writes bytes to standard output, honouring backpressure */
  writeStdout(chunk: Uint8Array): Promise<void>;
  /** progress only ever goes to a terminal */
  readonly stderrIsTty: boolean;
  writeStderr(text: string): void;
}
