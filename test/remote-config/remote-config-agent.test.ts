// The agent's own rules with fake timers and a fake host: a trial confirmed when its conditions
// hold, one rolled back when time runs out, a candidate arriving during a trial taken after it,
// and a retained candidate delivered again not tried twice.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { drivers } from '../../drivers/index.js';
import type { ResolvedSite } from '../../src/config/resolved-site.js';
import { RemoteConfigAgent } from '../../src/remote-config/remote-config-agent.js';
import { generateSigningKeys, signConfig } from '../../src/remote-config/signed-config.js';
import { SiteVersions } from '../../src/remote-config/site-versions.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-agent-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const keys = generateSigningKeys();
fs.writeFileSync(path.join(root, 'signing.pub'), keys.publicKey);
const text = (point: string) => `site: s
gateway: g
mqtt: { url: "mqtt://127.0.0.1:1" }
buffer: { path: buffer.db }
remote_config: { public_key: ../signing.pub, trial: 10s }
devices:
  - { name: d, driver: sim, points: [{ name: ${point}, signal: sine }] }
`;

function setup() {
  const dir = fs.mkdtempSync(path.join(root, 'gw-'));
  const localFile = path.join(dir, 'config.yaml');
  fs.writeFileSync(localFile, text('t0'));
  const clock = { now: () => Date.now() };
  const versions = new SiteVersions({ localFile, env: { STATE_DIRECTORY: dir }, drivers, clock });
  const choice = versions.start();
  const world = { connected: true, lastGoodAt: 0 as number | undefined, site: choice.site, applied: [] as string[] };
  const agent = new RemoteConfigAgent({
    versions,
    host: {
      get isConnected() { return world.connected; },
      get resolvedSite() { return world.site; },
      devicesObserved: () => [{ name: 'd', healthy: world.lastGoodAt !== undefined, lastGoodAt: world.lastGoodAt }],
      apply: async (next: ResolvedSite) => {
        world.site = next;
        world.applied.push(next.devices[0]!.points[0]!.name);
      },
      serialize: (task) => task(),
      versionChanged: () => undefined,
    },
    logger: pino({ level: 'silent' }),
    clock,
    learnSecrets: () => undefined,
    checkEveryMs: 100,
  });
  agent.start(choice.entry, choice.trial);
  const send = (version: string, point: string) => agent.receive(Buffer.from(signConfig(version, text(point), keys.privateKey)));
  return { agent, world, versions, send };
}

describe('RemoteConfigAgent', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('confirms once connected and the device read a good value after the change; rolls back when the trial runs out', async () => {
    const { agent, world, versions, send } = setup();
    await send('1', 't1');
    expect(agent.lastReport).toMatchObject({ state: 'trial', version: '1' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(agent.lastReport?.state).toBe('trial'); // the good value it had is from before the change
    world.lastGoodAt = Date.now();
    await vi.advanceTimersByTimeAsync(100);
    expect(agent.lastReport).toMatchObject({ state: 'confirmed', version: '1' });

    await send('2', 't2');
    world.connected = false;
    await vi.advanceTimersByTimeAsync(9_900);
    expect(agent.lastReport?.state).toBe('trial');
    await vi.advanceTimersByTimeAsync(200);
    expect(agent.lastReport).toMatchObject({ state: 'rolled_back', version: '2', active: '1', reason: expect.stringMatching(/uplink did not connect within 10s/) });
    expect(world.applied).toEqual(['t1', 't2', 't1']);
    expect(versions.store!.active?.version).toBe('1');
    agent.stop();
  });

  it('takes a signed candidate that arrived during a trial once the trial ends, refuses a forged one at once, and ignores one delivered again', async () => {
    const { agent, world, send } = setup();
    await send('1', 't1');
    await send('2', 't2'); // during the trial of 1: waits
    expect(world.applied).toEqual(['t1']);
    // A forged one during the trial is refused at once and does not take the waiting one's place.
    await agent.receive(Buffer.from(signConfig('3', text('t3'), generateSigningKeys().privateKey)));
    expect(agent.lastReport).toMatchObject({ state: 'rejected', version: '3', reason: expect.stringMatching(/^bad_signature/) });
    world.lastGoodAt = Date.now() + 1;
    await vi.advanceTimersByTimeAsync(200);
    expect(world.applied).toEqual(['t1', 't2']);
    expect(agent.lastReport).toMatchObject({ state: 'trial', version: '2' });
    await send('2', 't2'); // the retained message again, on a reconnect
    expect(world.applied).toEqual(['t1', 't2']);
    agent.stop();
  });
});
