// `fieldgate demo` (npm start): everything in one process so a newcomer sees data flow within
// seconds with no other software: an MQTT broker (aedes) on a free loopback port, the gateway
// on config/demo.yaml with simulated devices, and a subscriber printing what arrives.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { LevelWithSilent } from 'pino';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { drivers } from '../../drivers/index.js';
import { loadSite } from '../config/load-site.js';
import { ConfigError } from '../config/config-error.js';
import { Gateway } from '../gateway.js';
import { createLogger } from '../util/logger.js';
import { parseDuration } from '../util/duration.js';
import { packageRoot } from '../util/package-root.js';
import { println, type CliIo } from '../cli/io.js';
import { startModbusMeterSim } from './modbus-meter-sim.js';
import { startProfileSim } from './profile-sim.js';
import { profileLabel } from '../config/summarize-site.js';
import type { ModbusPointConfig } from '../../drivers/modbus/index.js';
import { setLongTimeout, type LongTimer } from '../util/long-timer.js';

export interface DemoOptions {
  duration?: string;
  port?: string;
  logLevel: LevelWithSilent;
}

async function listen(server: net.Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as net.AddressInfo).port;
}

export async function demoCommand(options: DemoOptions, io: CliIo): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-demo-'));
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  let port: number;
  try {
    port = await listen(server, options.port === undefined ? 0 : Number(options.port));
  } catch (err) {
    println(io.stderr, `fieldgate demo: cannot listen on 127.0.0.1:${options.port}: ${(err as Error).message}`);
    broker.close();
    return 1;
  }
  const url = `mqtt://127.0.0.1:${port}`;
  // modbus-serial's server takes 0 to mean 502, so find a free port first.
  const probe = net.createServer();
  const meterPort = await listen(probe, 0);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const meter = await startModbusMeterSim({ port: meterPort, host: '127.0.0.1' });
  const profilePort = await listen(probe, 0);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const env = {
    ...io.env, DEMO_MQTT_URL: url, DEMO_BUFFER: path.join(dir, 'buffer.db'), DEMO_MODBUS_PORT: String(meterPort), DEMO_PROFILE_PORT: String(profilePort),
  };
  const file = path.join(packageRoot(), 'config', 'demo.yaml');
  let site;
  try {
    site = loadSite(file, env, drivers);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    println(io.stderr, err.format());
    return 1;
  }
  const logger = createLogger({ level: options.logLevel, destination: process.stderr });
  // The devices built from a profile on the second simulated port: it serves their points.
  const profiled = site.devices.filter((d) => d.profile !== undefined && (d as { tcp?: { port?: number } }).tcp?.port === profilePort);
  const profileSim = await startProfileSim({
    port: profilePort,
    points: (profiled[0]?.points ?? []) as ModbusPointConfig[],
    units: profiled.map((d) => Number(d.unit_id)),
    logger,
  });
  const gateway = new Gateway({ site, drivers, logger });

  println(io.stdout, `fieldgate demo: in-process MQTT broker at ${url}, site file ${file}`);
  println(io.stdout, `  watch from another shell:  mosquitto_sub -h 127.0.0.1 -p ${port} -t '#' -v`);
  println(io.stdout, `  simulated Modbus meter:    127.0.0.1:${meterPort} (device meter-1, polled every second)`);
  for (const d of profiled) {
    println(io.stdout, `  simulated ${d.name}:`.padEnd(29) + `127.0.0.1:${profilePort} unit ${String(d.unit_id)} (${profileLabel(d)})`);
  }
  println(io.stdout, `  send a command:            mosquitto_pub -h 127.0.0.1 -p ${port} -t demo/boiler/setpoint/set -m 70`);
  println(io.stdout, `                             mosquitto_pub -h 127.0.0.1 -p ${port} -t demo/meter-1/power_limit/set -m 15000`);
  println(io.stdout, '  Ctrl-C to stop.\n');

  const watcher = mqtt.connect(url, { clientId: 'fieldgate-demo-watcher', reconnectPeriod: 500 });
  watcher.on('connect', () => watcher.subscribe('#', { qos: 1 }));
  watcher.on('message', (topic, payload) => {
    const time = new Date().toISOString().slice(11, 23);
    println(io.stdout, `${time}  ${topic}  ${payload.toString()}`);
  });

  await gateway.start();
  let timer: LongTimer | undefined;
  await new Promise<void>((resolve) => {
    // --duration may be days long (up to 366d); a plain setTimeout would end the demo at once.
    if (options.duration !== undefined) timer = setLongTimeout(resolve, parseDuration(options.duration));
    io.signals?.onStop(() => resolve());
  });
  timer?.clear();
  await gateway.stop({ drainMs: 1000 });
  await watcher.endAsync();
  await meter.stop();
  await profileSim.stop();
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return 0;
}
