// `fieldgate run`: the daemon. Loads and validates the site file (refusing to start on errors),
// runs the gateway until SIGTERM/SIGINT, reloads on SIGHUP keeping the running config when the
// new file is invalid.
import fs from 'node:fs';
import type { LevelWithSilent } from 'pino';
import { Gateway } from '../gateway.js';
import { drivers } from '../../drivers/index.js';
import type { ResolvedSite } from '../config/resolved-site.js';
import { SiteVersions } from '../remote-config/site-versions.js';
import { RemoteConfigAgent } from '../remote-config/remote-config-agent.js';
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
  const clock = { now: () => Date.now() };
  // With remote_config on, the gateway may start from the active stored version (site-versions.ts).
  const versions = new SiteVersions({ localFile: options.configFile, env: io.env, drivers, clock });
  let choice;
  try {
    choice = versions.start();
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
  const site = choice.site;
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
  if (choice.storeProblem) logger.error({ err: choice.storeProblem }, 'the stored configuration versions cannot be used; running the local site file');
  // Reloads (SIGHUP, remote candidates, trials ending) run one after another.
  let reloading = Promise.resolve();
  const serialize = (task: () => Promise<void>): Promise<void> => {
    const run = reloading.then(task).catch((err: unknown) => logger.error({ err: errorText(err) }, 'configuration change failed'));
    reloading = run;
    return run;
  };
  const apply = async (next: ResolvedSite): Promise<void> => {
    // Before anything about the new file is logged: its secrets are not the start-up file's.
    secrets.add(next.secrets);
    const plan = await gateway.reload(next);
    await service.reload(next, plan.restartHttp);
  };
  const agent = new RemoteConfigAgent({
    versions,
    host: {
      get isConnected() { return gateway.isConnected; },
      get resolvedSite() { return gateway.resolvedSite; },
      devicesObserved: () => gateway.devicesObserved(),
      apply,
      serialize,
      versionChanged: (version, state) => {
        gateway.metrics.setConfigVersion(version, state);
        gateway.announce();
      },
    },
    logger: logger.child({ component: 'remote_config' }),
    clock,
    learnSecrets: (s) => secrets.add(s),
  });
  const gateway: Gateway = new Gateway({
    site, drivers, logger, clock,
    // DEBUG=mqttjs* (the debug package's switch) still shows mqtt.js's protocol trace.
    protocolLog: io.env.DEBUG === undefined ? 'off' : 'debug',
    onUplink: (uplink) => agent.attach(uplink),
    birth: () => (agent.active ? { config_version: agent.active.version } : undefined),
  });
  const service = new ServiceRuntime({ gateway, site, logger, env: io.env, configVersion: () => agent.active });
  // Readings waiting for their commit (buffer.commit_interval) are committed on every exit this
  // process sees (a second stop signal, a fatal error): only a kill or a power cut can take them.
  const commitOnExit = (): void => {
    try {
      gateway.commitPending();
    } catch (err) {
      logger.error({ err: errorText(err) }, 'could not commit the readings waiting for their commit at exit');
    }
  };
  process.on('exit', commitOnExit);
  try {
    await gateway.start();
    await service.start();
    agent.start(choice.entry, choice.trial);
  } catch (err) {
    logger.fatal({ err: errorText(err) }, 'gateway could not start');
    await gateway.stop({ drainMs: 0 }).catch(() => undefined);
    process.off('exit', commitOnExit);
    logger.flush();
    return 1;
  }

  io.signals?.onReload(() => {
    void serialize(async () => {
      service.reloading();
      try {
        const next = versions.reload();
        if (next.storeProblem) logger.error({ err: next.storeProblem }, 'the stored configuration versions cannot be used; applying the local site file');
        await apply(next.site);
        agent.reloaded(next.entry);
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
  agent.stop();
  await reloading;
  await service.stop();
  await gateway.stop();
  process.off('exit', commitOnExit);
  logger.flush();
  return 0;
}
