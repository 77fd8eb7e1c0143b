// The bare baseline of cpu-per-reading.bench.ts, run as its own process: modbus-serial reads of
// the holding registers at a fixed cadence, and for every register one mqtt.js QoS 1 publish of
// the payload fieldgate would send ({"value":…,"ts":…,"seq":…} on <site>/<device>/<point>), with
// at most WINDOW publishes awaiting PUBACK. No journal, no mapping, no metrics: the least any
// poll-and-publish program has to do. With `batch` as fifth argument it publishes one message per
// poll instead, carrying every register as fieldgate's `payload: batch` does: the floor for (b).
// Run: node --import tsx bench/bare-poll-publish.ts <modbus port> <mqtt url> <interval ms> <registers> [point|batch] [topic prefix]
import M from 'modbus-serial';
import mqtt from 'mqtt';

const ModbusRTU = M.default;

const WINDOW = 100;

async function main(): Promise<void> {
  const [modbusPort, url, intervalArg, countArg, mode, prefix = 'bench'] = process.argv.slice(2);
  const intervalMs = Number(intervalArg);
  const count = Number(countArg);
  const modbus = new ModbusRTU();
  await modbus.connectTCP('127.0.0.1', { port: Number(modbusPort) });
  modbus.setID(1);
  modbus.setTimeout(2000);
  const client = await mqtt.connectAsync(url!, { clientId: `bare-${process.pid}`, reconnectPeriod: 0 });
  const topics = Array.from({ length: count }, (_, i) => `${prefix}/m/p${i}`);

  const waiting: [string, Buffer][] = [];
  let inFlight = 0;
  let seq = 0;
  const onAck = (err?: Error): void => {
    if (err) throw err;
    inFlight -= 1;
    pump();
  };
  function pump(): void {
    while (inFlight < WINDOW && waiting.length > 0) {
      const [topic, payload] = waiting.shift()!;
      inFlight += 1;
      client.publish(topic, payload, { qos: 1 }, onAck);
    }
  }

  async function poll(): Promise<void> {
    const { data } = await modbus.readHoldingRegisters(0, count);
    const ts = new Date().toISOString();
    if (mode === 'batch') {
      const values = data.map((v, i) => `"p${i}":${v}`).join(',');
      waiting.push([`${prefix}/m`, Buffer.from(`{"ts":"${ts}","seq":${++seq},"values":{${values}}}`)]);
      pump();
      return;
    }
    for (let i = 0; i < count; i++) {
      waiting.push([topics[i]!, Buffer.from(`{"value":${data[i]},"ts":"${ts}","seq":${++seq}}`)]);
    }
    pump();
  }

  // Fixed-rate ticks, as fieldgate's poll loop keeps them: the next poll is due one interval after
  // the previous one was due, not after it finished.
  let due = Date.now();
  for (;;) {
    await poll();
    due += intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else due = Date.now();
  }
}

// A clean exit on SIGINT, so that `--cpu-prof` can write its profile.
process.on('SIGINT', () => process.exit(0));
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
