// Where the CLI's words go: errors and warnings to stderr, everything else to stdout, each only at
// or above the chosen verbosity, so a cron run that succeeds stays quiet.
import { Level, type LevelNumber } from './verbosity.js';

export interface Output {
  readonly verbosity: LevelNumber;
  readonly isDebug: boolean;
  error(line: string): void;
  warning(line: string): void;
  notice(line: string): void;
  info(line: string): void;
  debug(line: string): void;
  /** command results (help text, listings): always printed, on stdout */
  result(text: string | Uint8Array): void;
}

export interface Sink {
  write(text: string | Uint8Array): unknown;
}

export function createOutput(verbosity: LevelNumber, stdout: Sink, stderr: Sink): Output {
  const at = (level: number, sink: Sink) => (line: string) => {
    if (verbosity >= level) sink.write(line.endsWith('\n') ? line : line + '\n');
  };
  return {
    verbosity,
    isDebug: verbosity >= Level.debug,
    error: at(Level.error, stderr),
    warning: at(Level.warning, stderr),
    notice: at(Level.notice, stdout),
    info: at(Level.info, stdout),
    debug: at(Level.debug, stderr),
    result: (text) => stdout.write(text),
  };
}
