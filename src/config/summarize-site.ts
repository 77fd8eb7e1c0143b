// The few lines `fieldgate validate` prints for a good site file: enough to spot a wrong broker
// or a forgotten device at a glance. Never shows credentials.
import type { DeviceConfigBase } from '../driver-api/index.js';
import type { ResolvedSite } from './resolved-site.js';
import { redactUrl } from '../uplink/redact-url.js';

export function summarizeSite(loaded: ResolvedSite): string {
  const cfg = loaded.config;
  const mqtt = cfg.mqtt;
  const urls = (mqtt.urls ?? (mqtt.url === undefined ? [] : [mqtt.url])).map(redactUrl);
  const broker = [
    `MQTT ${mqtt.protocol_version === 5 ? '5' : '3.1.1'}`,
    `QoS ${mqtt.qos ?? 1}`,
    ...(mqtt.tls ? ['TLS'] : []),
    ...(mqtt.username !== undefined ? [`user ${mqtt.username}`] : []),
  ];
  const buffer = cfg.buffer ?? {};
  const points = cfg.devices.reduce((n, d) => n + d.points.length, 0);
  const lines = [
    `site ${cfg.site}, gateway ${cfg.gateway ?? '(host name)'}`,
    `broker ${urls.join(', ')} (${broker.join(', ')})`,
    `buffer ${buffer.path ?? '(default)'} (at most ${buffer.max_messages ?? '?'} messages or ${String(buffer.max_bytes ?? '?')}, ${buffer.when_full ?? 'drop_oldest'})`,
    ...(cfg.http ? [`http ${cfg.http.listen ?? ''}`] : []),
    `${plural(cfg.devices.length, 'device')}, ${plural(points, 'point')}:`,
  ];
  const rows = cfg.devices.map((d) => [d.name, d.driver, `every ${d.interval ?? '1s'}`, plural(d.points.length, 'point')]);
  const widths = [0, 1, 2].map((c) => rows.reduce((max, r) => Math.max(max, r[c]!.length), 0));
  const label = cfg.devices.map(profileLabel);
  rows.forEach((row, i) => {
    const cells = row.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell));
    if (label[i] !== undefined) cells.push(`(${label[i]})`);
    lines.push('  ' + cells.join('  '));
  });
  return lines.join('\n');
}

/** `profile em-meter, version 1.2` for a device built from a profile; undefined otherwise. */
export function profileLabel(device: DeviceConfigBase): string | undefined {
  if (device.profile === undefined) return undefined;
  return `profile ${device.profile}${device.profile_version === undefined ? '' : `, version ${device.profile_version}`}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

