// The replay command's answers: refusals (not enabled, busy, unknown names, retained), the
// devices/points selection, and a result that survives the connection loss that interrupted it.
import { describe, expect, it } from 'vitest';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { ReplayService } from '../../src/replay/replay-service.js';
import { replayTopicsOf } from '../../src/replay/replay-topics.js';
import { FakeUplink } from '../support/fake-uplink.js';
import { entry, ManualClock, silentLogger } from '../journal/journal-helpers.js';

const TOPIC = 'p/gw/cmd/replay';

function setup(keepDelivered = true) {
  const journal = new MemoryJournal({ maxMessages: 100, maxBytes: 1e6, whenFull: 'drop_oldest', logger: silentLogger(), clock: new ManualClock(), keepDeliveredMs: 86_400_000 });
  journal.open();
  journal.append([entry('a', { topic: 'p/meter/v' }), entry('b', { topic: 'p/meter/i' }), entry('c', { topic: 'p/boiler/t' }), entry('d', { topic: 'p/meter/v' })]);
  journal.remove([1, 2, 3, 4]);
  const uplink = new FakeUplink({ connected: true });
  const point = (topic: string) => ({ topic }) as never;
  const service = new ReplayService({
    journal, uplink, logger: silentLogger(), clock: new ManualClock(), topic: TOPIC, keepDelivered, rate: 0, inflight: 10,
    topics: replayTopicsOf(() => [
      { name: 'meter', mapper: { batchTopic: undefined, points: new Map([['v', point('p/meter/v')], ['i', point('p/meter/i')]]) } },
      { name: 'boiler', mapper: { batchTopic: undefined, points: new Map([['t', point('p/boiler/t')]]) } },
    ]),
  });
  service.start();
  const ask = (body: unknown, retain = false) => uplink.subscriptions[0]!.handler(TOPIC, Buffer.from(JSON.stringify(body)), { retain });
  const results = () => uplink.sent.filter((m) => m.topic === `${TOPIC}/result`).map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
  const readings = () => uplink.sent.filter((m) => !m.topic.endsWith('/result')).map((m) => m.payload.toString());
  return { uplink, service, ask, results, readings };
}

describe('ReplayService', () => {
  it('refuses without keep_delivered, while another replay runs, and for retained requests', () => {
    const off = setup(false);
    off.ask({ id: 'x', from_seq: 1, to_seq: 2 });
    expect(off.results()).toEqual([{ id: 'x', ok: false, code: 'not_enabled', error: expect.stringMatching(/keep_delivered/) }]);

    const on = setup();
    on.ask({ id: 'first', from_seq: 1, to_seq: 4 });
    on.ask({ id: 'second', from_seq: 1, to_seq: 4 });
    on.ask({ id: 'kept', from_seq: 1, to_seq: 4 }, true);
    expect(on.results()).toEqual([
      { id: 'second', ok: false, code: 'busy', error: expect.stringMatching(/first is running/) },
      { ok: false, code: 'retained', error: expect.any(String) },
    ]);
    on.uplink.ack();
    expect(on.results()[2]).toMatchObject({ id: 'first', ok: true, sent: 4 });
  });

  it('selects by device and point, and refuses names it does not have', () => {
    const s = setup();
    s.ask({ id: 'v', from_seq: 1, to_seq: 4, devices: ['meter'], points: ['v'] });
    s.uplink.ack();
    expect(s.readings()).toEqual(['1|a', '4|d']);
    expect(s.results()[0]).toMatchObject({ id: 'v', ok: true, sent: 2, gone: [] });
    s.ask({ id: 'n', from_seq: 1, to_seq: 4, devices: ['pump'] });
    expect(s.results()[1]).toMatchObject({ id: 'n', ok: false, code: 'unknown_name', error: 'no such device or point: pump' });
  });

  it('an interrupted replay answers on the next connection, with where to resume', () => {
    const s = setup();
    s.ask({ id: 'cut', from_seq: 1, to_seq: 4 });
    s.uplink.ack(1);
    s.uplink.down();
    expect(s.results()).toEqual([]);
    s.uplink.up();
    expect(s.results()).toEqual([expect.objectContaining({ id: 'cut', ok: false, sent: 1, resume_from_seq: 2 })]);
  });
});
