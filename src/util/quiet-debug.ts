// mqtt-packet (and serialport, modbus-serial) log through the `debug` package. Its log function
// gathers every call's arguments into a new array before it looks whether its namespace is on,
// and mqtt-packet calls it about a dozen times per PUBLISH and PUBACK: a fifth of all the bytes a
// gateway publishing one message per point allocates, for output nobody sees. The loggers are
// made when those modules load, so the only way in is the module cache: loaded first, the `debug`
// module's exports are swapped for a factory that hands out functions doing nothing.
import { createRequire } from 'node:module';

/** What `require('debug')` returns: a factory of namespaced log functions, plus its settings. */
export type DebugFactory = ((namespace: string) => DebugLogger) & Record<string, unknown>;
export interface DebugLogger {
  (...args: unknown[]): void;
  enabled: boolean;
  namespace: string;
  extend(sub: string, delimiter?: string): DebugLogger;
}

/**
 * A factory like `real` whose loggers do nothing. Everything else (enable, formatters, …) is read
 * through to `real`; a namespace that `real` reports enabled at creation gets a real logger.
 */
export function quietDebugFactory(real: DebugFactory): DebugFactory {
  const enabled = real.enabled as (namespace: string) => boolean;
  const quiet = ((namespace: string): DebugLogger => {
    if (enabled(namespace)) return real(namespace);
    const silent = (() => {}) as DebugLogger;
    silent.enabled = false;
    silent.namespace = namespace;
    silent.extend = (sub, delimiter = ':') => quiet(namespace + delimiter + sub);
    return silent;
  }) as DebugFactory;
  Object.setPrototypeOf(quiet, real);
  return quiet;
}

/** Where the `debug` module sits for the packages that log through it (one copy or several). */
function debugModulePaths(from: string): string[] {
  const require = createRequire(from);
  const paths = new Set<string>();
  for (const owner of [undefined, 'mqtt-packet', 'mqtt']) {
    try {
      paths.add(owner === undefined ? require.resolve('debug') : createRequire(require.resolve(owner)).resolve('debug'));
    } catch {
      // A package without `debug` (or without that owner) has nothing to quieten.
    }
  }
  return [...paths];
}

/**
 * Puts quiet factories in the module cache for `debug`, unless DEBUG asks for output (then
 * nothing changes, so `DEBUG=mqtt-packet:*` still traces the protocol). Must run before the
 * packages that log are loaded; a copy of `debug` some module already loaded is left as it is.
 * Returns the module files it swapped.
 */
export function installQuietDebug(env: NodeJS.ProcessEnv, from: string = import.meta.url): string[] {
  if (env.DEBUG) return [];
  const require = createRequire(from);
  const swapped: string[] = [];
  const cached = (file: string): NodeJS.Module | undefined => require.cache[file];
  for (const file of debugModulePaths(from)) {
    if (cached(file)) continue;
    const real = require(file) as DebugFactory;
    const entry = cached(file);
    if (!entry) continue;
    entry.exports = quietDebugFactory(real);
    swapped.push(file);
  }
  return swapped;
}
