// Runs the CLI in this process with captured output: what the CLI tests need to call it.
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli.js';

export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCli(args, { stdout, stderr, env });
  return { code, out, err };
}
