// Runs the CLI in-process with captured output.
import { Readable, Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface MainResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runMain(argv: string[], stdin: Buffer = Buffer.alloc(0)): Promise<MainResult> {
  let stdout = '';
  let stderr = '';
  const out = new Writable({ write(chunk, _enc, done) { stdout += chunk.toString(); done(); } });
  const err = new Writable({ write(chunk, _enc, done) { stderr += chunk.toString(); done(); } });
  const code = await main(argv, { stdout: out, stderr: err, stdin: Readable.from([stdin]) });
  return { code, stdout, stderr };
}
