// `lifeboat rdiff signature|delta|patch`: rdiff's command line over our librsync module, so anyone can
// cross-check us against librsync from a shell. A developer's tool, kept out of the main help.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { inFile, IntegrityError, UsageError } from '../../errors/lifeboat-error.js';
import { writeFileAtomically } from '../../fsmeta/atomic-write.js';
import { generateDelta } from '../../librsync/delta.js';
import { applyPatch, fileBasisReader } from '../../librsync/patch.js';
import { DUPLICITY_STRONG_LENGTH, duplicityBlockLength, generateSignature, MD4_LENGTH, parseSignature } from '../../librsync/signature.js';
import { parseCommandLine, parseCount } from '../argv.js';
import type { CommandContext } from '../context.js';

export const rdiffHelp = `Usage: lifeboat rdiff [OPTIONS] signature [BASIS [SIGNATURE]]
       lifeboat rdiff [OPTIONS] delta SIGNATURE [NEWFILE [DELTA]]
       lifeboat rdiff [OPTIONS] patch BASIS [DELTA [NEWFILE]]

librsync's formats as rdiff (librsync 2.3) reads and writes them; "-" or a missing name means
standard input or output. Output files are written under a temporary name and renamed when complete.

Options:
  -b, --block-size=BYTES  signature block length (default: duplicity's choice for the file's size)
  -S, --sum-size=BYTES    strong sum bytes kept per block, 1-16, 0 = all 16 (default: 8, as duplicity)
  -H, --hash=ALG          strong sum: md4 (the only one supported; rdiff's default is blake2)
  -R, --rollsum=ALG       weak sum: rollsum (the only one supported; rdiff's default is rabinkarp)
  -f, --force             overwrite existing output files
  -h, --help              show this help
`;

const options = {
  'block-size': { type: 'string', short: 'b' },
  'sum-size': { type: 'string', short: 'S' },
  hash: { type: 'string', short: 'H' },
  rollsum: { type: 'string', short: 'R' },
  force: { type: 'boolean', short: 'f' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runRdiff(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine(args, options, 'rdiff');
  if (values.help) {
    ctx.out.result(rdiffHelp);
    return 0;
  }
  const [action, ...files] = positionals;
  const force = values.force ?? false;
  switch (action) {
    case 'signature': {
      checkArity(action, files, 0, 2);
      const hash = (values.hash ?? 'md4').toLowerCase();
      if (hash !== 'md4') {
        throw new UsageError(`rdiff: hash "${values.hash}" is not supported`, 'use --hash=md4, the strong sum duplicity uses');
      }
      const rollsum = (values.rollsum ?? 'rollsum').toLowerCase();
      if (rollsum !== 'rollsum') {
        throw new UsageError(`rdiff: rollsum "${values.rollsum}" is not supported`, 'use --rollsum=rollsum, the weak sum duplicity uses');
      }
      const [basis = '-', signature = '-'] = files;
      const sumSize = parseCount(values['sum-size'], 'sum size (-S)') ?? DUPLICITY_STRONG_LENGTH;
      if (sumSize > MD4_LENGTH) throw new UsageError(`bad sum size ${sumSize}`, 'MD4 sums are 1 to 16 bytes long');
      const blockLength = parseCount(values['block-size'], 'block size (-b)', 1) ??
        (basis === '-' ? 2048 : duplicityBlockLength((await stat(basis)).size));
      await write(signature, generateSignature(input(basis, ctx), {
        blockLength,
        strongLength: sumSize === 0 ? MD4_LENGTH : sumSize,
      }), force, ctx);
      return 0;
    }
    case 'delta': {
      checkArity(action, files, 1, 3);
      rejectSignatureOptions(values);
      const [signatureFile, newFile = '-', delta = '-'] = files;
      const signature = await parseSignature(input(signatureFile, ctx)).catch((err) => { throw inFile(err, signatureFile); });
      await write(delta, generateDelta(signature, input(newFile, ctx)), force, ctx);
      return 0;
    }
    case 'patch': {
      checkArity(action, files, 1, 3);
      rejectSignatureOptions(values);
      const [basisFile, delta = '-', newFile = '-'] = files;
      if (basisFile === '-') throw new UsageError('rdiff patch: the basis must be a file, not standard input', 'give the basis file\'s path');
      const handle = await open(basisFile, 'r');
      try {
        const basis = fileBasisReader(handle);
        await write(newFile, withFileName(applyPatch(basis, input(delta, ctx)), delta), force, ctx);
      } finally {
        await handle.close();
      }
      return 0;
    }
    case undefined:
      throw new UsageError('rdiff: no action given', 'use one of signature, delta, patch; see "lifeboat rdiff --help"');
    default:
      throw new UsageError(`rdiff: unknown action "${action}"`, 'use one of signature, delta, patch; see "lifeboat rdiff --help"');
  }
}

function checkArity(action: string, files: string[], min: number, max: number): void {
  if (files.length < min) throw new UsageError(`rdiff ${action}: missing file name`, 'see "lifeboat rdiff --help"');
  if (files.length > max) throw new UsageError(`rdiff ${action}: too many file names`, 'see "lifeboat rdiff --help"');
}

function rejectSignatureOptions(values: Record<string, unknown>): void {
  for (const name of ['block-size', 'sum-size', 'hash', 'rollsum']) {
    if (values[name] !== undefined) {
      throw new UsageError(`rdiff: --${name} applies to "signature" only`, 'the delta and patch take these from the signature');
    }
  }
}

function input(name: string, ctx: CommandContext): AsyncIterable<Uint8Array> {
  return name === '-' ? ctx.stdin : createReadStream(name, { highWaterMark: 1 << 20 });
}

async function* withFileName(source: AsyncIterable<Buffer>, name: string): AsyncGenerator<Buffer> {
  try {
    yield* source;
  } catch (err) {
    throw err instanceof IntegrityError ? inFile(err, name === '-' ? '<stdin>' : name) : err;
  }
}

async function write(name: string, data: AsyncIterable<Uint8Array>, force: boolean, ctx: CommandContext): Promise<void> {
  if (name === '-') {
    for await (const chunk of data) await ctx.writeStdout(chunk);
    return;
  }
  await writeFileAtomically(name, data, { force });
}
