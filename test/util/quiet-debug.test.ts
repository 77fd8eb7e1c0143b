import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { quietDebugFactory, type DebugFactory, type DebugLogger } from '../../src/util/quiet-debug.js';

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'debug-probe.ts');

function fakeDebug(enabledNamespaces: string[]): { real: DebugFactory; made: string[] } {
  const made: string[] = [];
  const real = ((namespace: string): DebugLogger => {
    made.push(namespace);
    const logger = ((..._args: unknown[]) => {}) as DebugLogger;
    logger.enabled = true;
    logger.namespace = namespace;
    logger.extend = () => logger;
    return logger;
  }) as DebugFactory;
  real.enabled = (namespace: string) => enabledNamespaces.includes(namespace);
  real.enable = () => {};
  real.formatters = { o: () => '' };
  return { real, made };
}

function probe(env: NodeJS.ProcessEnv): { out: Record<string, unknown>; stderr: string } {
  const childEnv = { ...process.env, ...env };
  if (env.DEBUG === undefined) delete childEnv.DEBUG;
  const r = spawnSync(process.execPath, ['--import', 'tsx', PROBE], { env: childEnv, encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return { out: JSON.parse(r.stdout) as Record<string, unknown>, stderr: r.stderr };
}

describe('quietDebugFactory', () => {
  it('hands out loggers that do nothing for namespaces that are off', () => {
    const { real, made } = fakeDebug([]);
    const quiet = quietDebugFactory(real);
    const log = quiet('mqtt-packet:parser');
    expect(log('parse: %o', { a: 1 })).toBeUndefined();
    expect(log.enabled).toBe(false);
    expect(log.namespace).toBe('mqtt-packet:parser');
    expect(made).toEqual([]);
  });

  it('extends a quiet logger into a quiet logger with the joined namespace', () => {
    const quiet = quietDebugFactory(fakeDebug([]).real);
    expect(quiet('a').extend('b').namespace).toBe('a:b');
    expect(quiet('a').extend('b', '/').namespace).toBe('a/b');
  });

  it('gives a real logger to a namespace the real factory has on', () => {
    const { real, made } = fakeDebug(['serialport/stream']);
    const log = quietDebugFactory(real)('serialport/stream');
    expect(log.enabled).toBe(true);
    expect(made).toEqual(['serialport/stream']);
  });

  it('reads the factory settings through to the real module', () => {
    const { real } = fakeDebug([]);
    const quiet = quietDebugFactory(real);
    expect(quiet.enable).toBe(real.enable);
    expect(quiet.formatters).toBe(real.formatters);
  });
});

describe('installQuietDebug, in a process of its own', () => {
  it('swaps the debug module mqtt-packet loads, and mqtt-packet still writes and parses', () => {
    const { out, stderr } = probe({ DEBUG: undefined });
    expect(out).toEqual({ swapped: true, isReal: false, readsThrough: true, loggerEnabled: false, parsed: 'publish 7' });
    expect(stderr).toBe('');
  });

  it('changes nothing when DEBUG is set, so the protocol trace still shows', () => {
    const { out, stderr } = probe({ DEBUG: 'mqtt-packet:*' });
    expect(out).toEqual({ swapped: false, isReal: true, readsThrough: false, loggerEnabled: true, parsed: 'publish 7' });
    expect(stderr).toContain('mqtt-packet:parser');
    expect(stderr).toContain('mqtt-packet:writeToStream');
  });
});
