// argv -> command -> exit code. Parses only what every command shares (verbosity, help, version),
// dispatches, and turns every error into one line, a hint and an exit code; never a bare stack trace.
import { version } from './version.js';
import { ExitCode } from '../errors/exit-codes.js';
import { formatError } from '../errors/format-error.js';
import { UsageError } from '../errors/lifeboat-error.js';
import type { CommandContext } from './context.js';
import { createOutput, type Sink } from './output.js';
import { Level, parseVerbosity } from './verbosity.js';

export const mainHelp = `Usage: lifeboat [GLOBAL OPTIONS] COMMAND [ARGS]

Lifeboat backs up servers into duplicity's archive format and proves that they restore.

Global options:
  -v, --verbosity LEVEL  0-9, or e/w/n/i/d, or error|warning|notice|info|debug (default: notice);
                         debug also prints stack traces
  -h, --help             show this help
  -V, --version          print the version

Commands available in this build:
  PROFILE COMMAND[_COMMAND...] [OPTIONS]
                         duply's command line: create, backup, bkp, full, incr, status, list,
                         verify, verifyPath, restore, fetch, purge, purgeFull, purgeIncr,
                         purgeAuto, cleanup, pre, post (see "lifeboat usage", docs/profiles.md);
                         and Lifeboat's own: drill (docs/drills.md), restore-db
                         (docs/databases.md), copy (offline copies, docs/offline-copies.md),
                         schedule, unschedule, run-routine, check, cost (docs/unattended.md),
                         audit (docs/hardening.md)
  duplicity ACTION ...   duplicity 0.8's command line: full, incremental, restore, verify,
                         collection-status, list-current-files, remove-older-than,
                         remove-all-but-n-full, remove-all-inc-of-but-n-full, cleanup
                         (see "lifeboat duplicity --help")
  quickstart [DIR]       back DIR (or a demo tree) up to a local archive, restore it into a
                         scratch directory and compare: a real backup and restore check
  help                   show this help

Exit codes of "lifeboat duplicity" are duplicity 0.8's: 0 success, 1 differences found, 2 command-line error,
23 user or backend error, 30 unexpected error (a bug); profile commands exit as duply does:
0, 1 when a command failed, 255 when the profile or command line is wrong; see docs/exit-codes.md.
`;

export interface MainIo {
  stdout: Sink & NodeJS.WritableStream;
  stderr: Sink;
  stdin: AsyncIterable<Uint8Array>;
}

type Command = (args: string[], ctx: CommandContext) => Promise<number>;

/**
 * Commands reachable from the command line; developer tools are hidden from the main help. Each is
 * loaded when it is run: a cron job's `lifeboat duplicity incremental` does not parse the profile
 * commands' modules, nor a profile run duplicity's command line.
 */
const commands: Record<string, () => Promise<Command>> = {
  duplicity: async () => (await import('./commands/duplicity.js')).runDuplicity,
  quickstart: async () => (await import('./commands/quickstart.js')).runQuickstart,
  rdiff: async () => (await import('./commands/rdiff.js')).runRdiff,
};

async function profileCommand(profile: string): Promise<Command> {
  const { runProfile } = await import('./commands/profile.js');
  return (args, ctx) => runProfile([profile, ...args], ctx);
}

export { version } from './version.js';

export async function main(argv: string[], io: MainIo = defaultIo()): Promise<number> {
  const stdout = watchStdout(io);
  const ran = { profile: false };
  const code = await run(argv, io, ran);
  // an error event may follow the last write by a tick
  await new Promise((resolve) => setImmediate(resolve));
  if (code !== ExitCode.ok || !stdout.failed) return code;
  return ran.profile ? ExitCode.profileCommandFailed : ExitCode.userError;
}

/**
 * A reader that goes away (`lifeboat ... | head -1`, EPIPE) must not crash a backup with a stack
 * trace: what was left to print is dropped, and the command runs to its end and its own exit status.
 * Any other failure to write the standard output (a full disk under `> file`) is said once on stderr,
 * and a command that succeeded fails (userError; a profile command 1, as duply's codes go): its output
 * is incomplete.
 */
function watchStdout(io: MainIo): { failed: boolean } {
  const state = { failed: false };
  const stdout = io.stdout as Partial<NodeJS.EventEmitter>;
  stdout.on?.('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || state.failed) return;
    state.failed = true;
    io.stderr.write(`lifeboat: cannot write to the standard output (${err.code ?? err.message}); the rest of it is lost\n`);
  });
  (io.stderr as Partial<NodeJS.EventEmitter>).on?.('error', () => undefined);
  return state;
}

async function run(argv: string[], io: MainIo, ran: { profile: boolean }): Promise<number> {
  let verbosity: number = Level.notice;
  let verbosityGiven = false;
  const debugAsked = argv.some((a, i) => isDebugRequest(a, argv[i + 1]));
  try {
    const args = [...argv];
    // global options come before the command word
    while (args.length > 0 && args[0].startsWith('-')) {
      const arg = args.shift()!;
      if (arg === '-h' || arg === '--help') {
        io.stdout.write(mainHelp);
        return ExitCode.ok;
      } else if (arg === '-V' || arg === '--version') {
        io.stdout.write(`lifeboat ${version()}\n`);
        return ExitCode.ok;
      } else if (arg === '-v' || arg === '--verbosity') {
        const value = args.shift();
        if (value === undefined) throw new UsageError(`option ${arg} needs a value`, 'e.g. -v info');
        verbosity = parseVerbosity(value);
        verbosityGiven = true;
      } else if (arg.startsWith('--verbosity=')) {
        verbosity = parseVerbosity(arg.slice('--verbosity='.length));
        verbosityGiven = true;
      } else if (/^-v./.test(arg)) {
        verbosity = parseVerbosity(arg.slice(2));
        verbosityGiven = true;
      } else {
        throw new UsageError(`unknown option "${arg}"`);
      }
    }
    const [word, ...rest] = args;
    if (word === undefined) throw new UsageError('no command given');
    if (word === 'help') {
      io.stdout.write(mainHelp);
      return ExitCode.ok;
    }
    // any other word is a profile, as in duply: lifeboat PROFILE COMMAND
    ran.profile = !Object.hasOwn(commands, word);
    const command = await (ran.profile ? profileCommand(word) : commands[word]());
    const out = createOutput(verbosity, io.stdout, io.stderr);
    return await command(rest, {
      out,
      verbosityGiven,
      stdin: io.stdin,
      stderrIsTty: (io.stderr as { isTTY?: boolean }).isTTY === true,
      writeStderr: (text) => { io.stderr.write(text); },
      writeStdout: (chunk) => new Promise<void>((resolve, reject) => {
        io.stdout.write(chunk, (err?: Error | null) => (err ? reject(err) : resolve()));
      }),
    });
  } catch (err) {
    const { text, exitCode } = formatError(err, { debug: debugAsked || verbosity >= Level.debug });
    io.stderr.write(text);
    return exitCode;
  }
}

function isDebugRequest(arg: string, next: string | undefined): boolean {
  const value = arg === '-v' || arg === '--verbosity' ? next
    : arg.startsWith('--verbosity=') ? arg.slice(12)
    : /^-v./.test(arg) ? arg.slice(2) : undefined;
  if (value === undefined) return false;
  try {
    return parseVerbosity(value) >= Level.debug;
  } catch {
    return false;
  }
}

function defaultIo(): MainIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
}
