// Semantic checks that JSON Schema cannot express: unique names, url XOR urls, TLS consistency,
// referenced files, value ranges across keys. Each reports and moves on, so one run lists all.
import { LISTEN_EXAMPLES, parseListenAddress } from '../util/listen-address.js';
import path from 'node:path';
import { validField, type CheckContext } from './check-context.js';
import { at, displayPath } from './schema-errors.js';
import { showUrl, urlPasswords } from './secret-scrub.js';
import { PASSWORD_FILE_MAX_BYTES, TLS_FILE_MAX_BYTES } from './file-limits.js';
import { FileReadError, readBoundedFile } from '../util/read-bounded-file.js';
import type { MqttConfig, HttpConfig } from './site-config.js';

export function checkSite(ctx: CheckContext): void {
  checkUniqueNames(ctx);
  checkMqtt(ctx);
  checkHttp(ctx);
  checkDeviceValues(ctx);
}

function checkUniqueNames(ctx: CheckContext): void {
  const devices = Array.isArray(ctx.root.devices) ? (ctx.root.devices as unknown[]) : [];
  const deviceNames = new Map<string, string>();
  devices.forEach((device, i) => {
    const name = nameOf(device);
    const pointer = `/devices/${i}/name`;
    if (name === undefined) return;
    const first = deviceNames.get(name);
    if (first === undefined) deviceNames.set(name, pointer);
    else ctx.report(pointer, 'value', at(pointer, `device name '${name}' is already used on line ${ctx.lineOf(first)}`));

    const points = (device as { points?: unknown }).points;
    if (!Array.isArray(points)) return;
    const pointNames = new Map<string, string>();
    points.forEach((point, j) => {
      const pointName = nameOf(point);
      const pointPointer = `/devices/${i}/points/${j}/name`;
      if (pointName === undefined) return;
      const firstPoint = pointNames.get(pointName);
      if (firstPoint === undefined) pointNames.set(pointName, pointPointer);
      else {
        ctx.report(
          pointPointer,
          'value',
          at(pointPointer, `point name '${pointName}' is already used in device '${name}' on line ${ctx.lineOf(firstPoint)}`),
        );
      }
    });
  });
}

function nameOf(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const name = (value as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

function checkMqtt(ctx: CheckContext): void {
  const raw = ctx.root.mqtt;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return;
  // Field by field: one bad key in mqtt must not hide the problems of the others.
  const field = <K extends keyof MqttConfig>(key: K): MqttConfig[K] | undefined => {
    const value = (raw as MqttConfig)[key];
    return value !== undefined && ctx.isValid(`/mqtt/${key}`) ? value : undefined;
  };
  const has = (key: keyof MqttConfig): boolean => (raw as MqttConfig)[key] !== undefined;
  if (has('url') && has('urls')) {
    ctx.report('/mqtt/urls', 'key', 'mqtt: give either url or urls, not both');
  } else if (!has('url') && !has('urls')) {
    ctx.report('/mqtt', 'key', 'mqtt: needs url (or urls for failover)');
  }
  const tls = field('tls');
  const urls: { pointer: string; url: string }[] = [];
  const url = field('url');
  if (url !== undefined) urls.push({ pointer: '/mqtt/url', url });
  field('urls')?.forEach((u, i) => urls.push({ pointer: `/mqtt/urls/${i}`, url: u }));
  for (const { pointer, url: text } of urls) {
    const problem = urlProblem(text, has('tls'), ctx);
    if (problem) ctx.report(pointer, 'value', at(pointer, problem));
  }

  if (has('password') && has('password_file')) {
    ctx.report('/mqtt/password_file', 'key', 'mqtt: give either password or password_file, not both');
  }
  if (tls) {
    if (tls.cert !== undefined && tls.key === undefined) {
      ctx.report('/mqtt/tls', 'key', 'mqtt.tls: cert needs key (the client private key)');
    }
    if (tls.key !== undefined && tls.cert === undefined) {
      ctx.report('/mqtt/tls', 'key', 'mqtt.tls: key needs cert (the client certificate)');
    }
    for (const key of ['ca', 'cert', 'key'] as const) {
      const file = tls[key];
      if (file === undefined) continue;
      const bytes = readReferencedFile(ctx, `/mqtt/tls/${key}`, file, TLS_FILE_MAX_BYTES);
      if (bytes) ctx.files.set(path.resolve(ctx.dir, file), bytes);
    }
  }
  const passwordFile = field('password_file');
  if (passwordFile !== undefined) readPasswordFile(ctx, passwordFile);
}

function urlProblem(text: string, tls: boolean, ctx: CheckContext): string | undefined {
  const hint = '(use mqtt://host:1883, or mqtts://host:8883 for TLS)';
  // Quoted without its password: these messages reach terminals and logs.
  const shown = JSON.stringify(showUrl(text));
  for (const p of urlPasswords(text)) ctx.secrets.push(p);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${shown} is not a URL ${hint}`;
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') {
    return `${shown} is not an MQTT broker URL ${hint}`;
  }
  if (url.hostname === '') return `${shown} has no host name ${hint}`;
  if (url.password !== '') ctx.secrets.push(url.password);
  if (tls && url.protocol === 'mqtt:') return `the tls block needs mqtts:// URLs, not ${shown}`;
  return undefined;
}

/** The file's bytes when it is a readable regular file within `maxBytes`; else reports why. */
function readReferencedFile(ctx: CheckContext, pointer: string, file: string, maxBytes: number): Buffer | undefined {
  const where = at(pointer, '');
  const full = path.resolve(ctx.dir, file);
  const shown = full === file ? `"${file}"` : `"${file}" (${full})`;
  try {
    return readBoundedFile(full, maxBytes);
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    if (err.problem === 'directory') ctx.report(pointer, 'value', `${where}${shown} is a directory, not a file`);
    else ctx.report(pointer, 'value', `${where}file ${shown} ${err.detail}`);
    return undefined;
  }
}

function readPasswordFile(ctx: CheckContext, file: string): void {
  const pointer = '/mqtt/password_file';
  const bytes = readReferencedFile(ctx, pointer, file, PASSWORD_FILE_MAX_BYTES);
  if (bytes === undefined) return;
  const text = bytes.toString('utf8').replace(/[\r\n]+$/, '');
  if (text === '') ctx.report(pointer, 'value', `${displayPath(pointer)}: the password file is empty`);
  else ctx.passwordFromFile = text;
}

function checkHttp(ctx: CheckContext): void {
  const http = validField<HttpConfig>(ctx, 'http');
  if (!http?.listen) return;
  if (!parseListenAddress(http.listen)) {
    ctx.report('/http/listen', 'value', `http.listen: ${JSON.stringify(http.listen)} is not ${LISTEN_EXAMPLES}`);
  }
  if (http.token !== undefined && http.token_file !== undefined) {
    ctx.report('/http/token_file', 'key', 'http: give either token or token_file, not both');
  } else if (http.token_file !== undefined && ctx.isValid('/http/token_file')) {
    const pointer = '/http/token_file';
    const bytes = readReferencedFile(ctx, pointer, http.token_file, PASSWORD_FILE_MAX_BYTES);
    const text = bytes?.toString('utf8').replace(/[\r\n]+$/, '');
    if (text === undefined) return;
    if (text.length < 16) ctx.report(pointer, 'value', `${displayPath(pointer)}: the token in the file must be at least 16 characters`);
    else ctx.tokenFromFile = text;
  }
}

function checkDeviceValues(ctx: CheckContext): void {
  for (const device of ctx.devices) {
    device.config.points.forEach((point, j) => {
      const pointer = `${device.pointer}/points/${j}`;
      if (point.min !== undefined && point.max !== undefined && point.min > point.max) {
        ctx.report(`${pointer}/min`, 'value', at(pointer, `min (${point.min}) is greater than max (${point.max})`));
      }
    });
  }
}
