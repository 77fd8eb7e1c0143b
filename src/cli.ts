// Command-line entry: parses arguments and dispatches. Returns an exit code; only main.ts exits.
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from './util/package-root.js';
import type { LevelWithSilent } from 'pino';
import { LOG_LEVELS } from './util/logger.js';
import { println, type CliIo } from './cli/io.js';
import { runCommand } from './cli/run-command.js';
import { validateCommand, planCommand, readCommand, schemaCommand, loadOrReport } from './cli/site-commands.js';
import { bufferCommand, bufferPathOf } from './cli/buffer-commands.js';

export const DEFAULT_CONFIG = '/etc/fieldgate/config.yaml';

const USAGE = `usage: fieldgate <command> [options]

commands:
  run       -c FILE        run the gateway (FIELDGATE_CONFIG, default ${DEFAULT_CONFIG})
  validate  -c FILE        check a site file; every error as file:line:col, exit 1 if any
  read      -c FILE        poll every device once and print topic and payload (publishes nothing)
                           [--wait 5s] listen this long for listen-only devices
  plan      -c FILE        print the planned requests of each device (commissioning view)
  buffer stats   -c FILE   backlog depth, oldest age, bytes, drops   [--path DB instead of -c]
  buffer export  -c FILE   undelivered messages as JSON lines [--since T] [--until T]
                           (T: ISO 8601, epoch ms, or a duration ago such as 2h)
  buffer purge   -c FILE   delete every undelivered message (--yes to confirm)
  demo                     in-process broker + simulated devices; prints messages as they arrive
                           [--duration 10s] [--port N]
  schema                   print the JSON Schema of the site file

options:
  -c, --config FILE        site file
  --log-level LEVEL        ${LOG_LEVELS.join(' | ')} (default info)
  -h, --help, --version`;

function version(): string {
  const manifest = path.join(packageRoot(), 'package.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        path: { type: 'string' },
        'log-level': { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        wait: { type: 'string' },
        duration: { type: 'string' },
        port: { type: 'string' },
        yes: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    println(io.stderr, `fieldgate: ${(err as Error).message}\n\n${USAGE}`);
    return 64;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    println(io.stdout, version());
    return 0;
  }
  const [command, sub] = positionals;
  if (values.help || command === undefined || command === 'help') {
    println(io.stdout, USAGE);
    return command === undefined && !values.help ? 64 : 0;
  }
  const logLevel = (values['log-level'] ?? 'info') as LevelWithSilent;
  if (!LOG_LEVELS.includes(logLevel)) {
    println(io.stderr, `fieldgate: --log-level must be one of ${LOG_LEVELS.join(', ')}`);
    return 64;
  }
  const configFile = values.config ?? io.env.FIELDGATE_CONFIG ?? DEFAULT_CONFIG;
  switch (command) {
    case 'run':
      return runCommand({ configFile, logLevel }, io);
    case 'validate':
      return validateCommand(configFile, io);
    case 'plan':
      return planCommand(configFile, io);
    case 'read':
      return readCommand(configFile, { wait: values.wait, logLevel: values['log-level'] ? logLevel : 'warn' }, io);
    case 'schema':
      return schemaCommand(io);
    case 'demo': {
      // The demo's in-process broker (aedes) and Modbus meter stay out of every other command's memory.
      const { demoCommand } = await import('./demo/demo-command.js');
      return demoCommand({ duration: values.duration, port: values.port, logLevel: values['log-level'] ? logLevel : 'warn' }, io);
    }
    case 'buffer': {
      if (values.path !== undefined) return bufferCommand(sub ?? 'stats', { path: values.path, since: values.since, until: values.until, yes: values.yes }, undefined, io);
      const site = loadOrReport(configFile, io);
      if (!site) return 1;
      return bufferCommand(sub ?? 'stats', { path: bufferPathOf(site), since: values.since, until: values.until, yes: values.yes }, site, io);
    }
    default:
      println(io.stderr, `fieldgate: unknown command "${command}"\n\n${USAGE}`);
      return 64;
  }
}
