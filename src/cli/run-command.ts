// `fieldgate run`: the daemon. Loads and validates the site file (refusing to start on errors),
// runs the gateway until SIGTERM/SIGINT, reloads on SIGHUP keeping the running config when the
// new file is invalid.
import fs from 'node:fs';
import type { LevelWithSilent } from 'pino';
import { Gateway } from '../gateway.js';
import { drivers } from '../../drivers/index.js';
import { loadSite } from '../config/load-site.js';
import { ConfigError } from '../config/config-error.js';
import { createLogger, LogSecrets } from '../util/logger.js';
import { errorText } from '../util/errors.js';
import { println, type CliIo } from './io.js';
import { ServiceRuntime } from './service-runtime.js';

export interface RunOptions {
  configFile: string;
  logLevel: LevelWithSilent;
}

export async function runCommand(options: RunOptions, io: CliIo): Promise<number> {
  let site;
  try {
    site = loadSite(options.configFile, io.env, drivers);
  } catch (err) {
    if (err instanceof ConfigError) {
      println(io.stderr, err.format());
      println(io.stderr, `fieldgate: refusing to start: ${err.issues.length} error(s) in ${options.configFile}`);
      if (!fs.existsSync(options.configFile)) {
        println(io.stderr, 'fieldgate: start from the annotated example (config/example.yaml in the package), name the file with -c or FIELDGATE_CONFIG, or try `fieldgate demo`');
      }
      return 1;
    }
    throw err;
  }
  const secrets = new LogSecrets(site.secrets);
  // The log is our output: when its reader leaves (`fieldgate run | head`), stop as on SIGTERM.
  let stopOnClosedOutput: (() => void) | undefined;
  let outputClosed = false;
  const logger = createLogger({
    level: options.logLevel,
    secrets,
    onOutputClosed: () => {
      outputClosed = true;
      stopOnClosedOutput?.();
    },
  });
  const gateway = new Gateway({ site, drivers, logger });
  const service = new ServiceRuntime({ gateway, site, logger, env: io.env });
  try {
    await gateway.start();
    await service.start();
  } catch (err) {
    logger.fatal({ err: errorText(err) }, 'gateway could not start');
    await gateway.stop({ drainMs: 0 }).catch(() => undefined);
    logger.flush();
    return 1;
  }

  let reloading = Promise.resolve();
  io.signals?.onReload(() => {
    reloading = reloading.then(async () => {
      service.reloading();
      try {
        const next = loadSite(options.configFile, io.env, drivers);
        // Before anything about the new file is logged: its secrets are not the start-up file's.
        secrets.add(next.secrets);
        const plan = await gateway.reload(next);
        await service.reload(next, plan.restartHttp);
      } catch (err) {
        if (err instanceof ConfigError) {
          secrets.add(err.secrets);
          logger.error({ errors: err.issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.message}`) }, 'new configuration is invalid; keeping the running one');
        } else {
          logger.error({ err: errorText(err) }, 'reload failed; keeping the running configuration');
        }
      }
      service.ready();
    });
  });

  const signal = await new Promise<string>((resolve) => {
    let stopping = false;
    stopOnClosedOutput = () => {
      if (!stopping) {
        stopping = true;
        resolve('output closed');
      }
    };
    if (outputClosed) stopOnClosedOutput();
    io.signals?.onStop((sig) => {
      if (stopping) {
        if (sig === 'output closed') return;
        logger.warn({ signal: sig }, 'second signal: exiting now; the journal is safe (every committed row survives)');
        logger.flush();
        io.signals?.forceExit(130);
        return;
      }
      stopping = true;
      resolve(sig);
    });
  });
  logger.info({ signal }, 'stopping');
  service.stopping();
  await reloading;
  await service.stop();
  await gateway.stop();
  logger.flush();
  return 0;
}
