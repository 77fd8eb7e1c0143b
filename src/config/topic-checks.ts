// Topic templates checked before anything connects: unknown {variables}, tags that would hide a
// built-in variable, topics MQTT cannot publish to, and two points (or a point and the status or
// a command topic) that would end up on the same topic.
import { compileTemplate, templateVariables, topicProblem, topicVariables } from '../mapping/template.js';
import { validField, type CheckContext, type CheckedDevice } from './check-context.js';
import { SITE_DEFAULTS } from './defaults.js';
import { at } from './schema-errors.js';
import { didYouMean } from './suggest.js';

const BUILT_IN = ['site', 'gateway', 'device', 'point'] as const;
const GATEWAY_VARS = ['site', 'gateway'] as const;

interface TopicUse {
  label: string;
  pointer: string;
}

export function checkTopics(ctx: CheckContext): void {
  const site = validField<string>(ctx, 'site');
  const siteVars = site === undefined ? undefined : { site, gateway: ctx.gateway };
  checkGatewayTemplate(ctx, '/mqtt/client_id', siteVars, false);
  const status = checkGatewayTemplate(ctx, '/mqtt/status_topic', siteVars, true);

  const readings = new Map<string, TopicUse>();
  const commands = new Map<string, TopicUse>();
  for (const device of ctx.devices) {
    checkTags(ctx, device);
    device.config.points.forEach((point, j) => {
      const source = templateSource(ctx, device, j);
      const label = `${device.config.name}/${point.name}`;
      const rendered = renderPointTopic(ctx, device, point.name, source, siteVars);
      if (rendered === undefined) return;
      const problem = publishProblem(rendered);
      if (problem) {
        ctx.report(source.pointer, 'value', at(source.pointer, `${problem} (point ${label})`));
        return;
      }
      const here = { label, pointer: source.own ? source.pointer : `${device.pointer}/points/${j}/name` };
      const first = readings.get(rendered);
      // The same device/point label twice is a duplicate name, reported on its own.
      if (first && first.label !== label) {
        ctx.report(here.pointer, 'value', at(here.pointer, `topic "${rendered}" is also used by point ${first.label} (line ${ctx.lineOf(first.pointer)})`));
      } else if (!first) {
        readings.set(rendered, here);
      }
      if (point.writable === true) commands.set(`${rendered}/set`, here);
    });
    if (device.config.payload === 'batch') checkBatchTopic(ctx, device, siteVars, readings);
  }

  for (const [topic, reader] of readings) {
    const writer = commands.get(topic);
    if (writer) {
      ctx.report(
        reader.pointer,
        'value',
        at(reader.pointer, `topic "${topic}" is the command topic of writable point ${writer.label}; its readings would be taken as commands`),
      );
    }
  }
  if (status !== undefined) {
    const clash = readings.get(status) ?? commands.get(status);
    if (clash) ctx.report('/mqtt/status_topic', 'value', `mqtt.status_topic: "${status}" is also a topic of point ${clash.label}`);
  }
}

/** client_id and status_topic: only {site} and {gateway}. Returns the rendered text when valid. */
function checkGatewayTemplate(
  ctx: CheckContext,
  pointer: '/mqtt/client_id' | '/mqtt/status_topic',
  vars: Record<string, string> | undefined,
  isTopic: boolean,
): string | undefined {
  const mqtt = ctx.root.mqtt as Record<string, unknown> | undefined;
  const key = pointer === '/mqtt/client_id' ? 'client_id' : 'status_topic';
  if (mqtt === null || typeof mqtt !== 'object' || !ctx.isValid(pointer)) return undefined;
  const source = mqtt[key] ?? SITE_DEFAULTS.mqtt[key];
  if (typeof source !== 'string') return undefined;
  let ok = true;
  for (const name of templateVariables(source)) {
    if ((GATEWAY_VARS as readonly string[]).includes(name)) continue;
    ok = false;
    ctx.report(pointer, 'value', at(pointer, `unknown template variable {${name}} (only {site} and {gateway} can be used here)`));
  }
  if (!ok || vars === undefined) return undefined;
  const rendered = compileTemplate(source).render(vars);
  const problem = isTopic ? publishProblem(rendered) : rendered === '' ? 'client id is empty' : undefined;
  if (problem) {
    ctx.report(pointer, 'value', at(pointer, problem));
    return undefined;
  }
  return rendered;
}

function checkTags(ctx: CheckContext, device: CheckedDevice): void {
  for (const tag of Object.keys(device.config.tags ?? {})) {
    if ((BUILT_IN as readonly string[]).includes(tag)) {
      const pointer = `${device.pointer}/tags/${tag}`;
      ctx.report(pointer, 'key', at(`${device.pointer}/tags`, `tag '${tag}' would hide the built-in {${tag}}; pick another name`));
    }
  }
}

interface TemplateSource {
  text: string;
  /** Where the template was written; for the built-in default, the point's name. */
  pointer: string;
  /** Written on the point itself. */
  own: boolean;
  level: 'point' | 'device' | 'site' | 'default';
}

function templateSource(ctx: CheckContext, device: CheckedDevice, j: number): TemplateSource {
  const rawDevice = (ctx.root.devices as Record<string, unknown>[])[device.index]!;
  const rawPoint = (rawDevice.points as Record<string, unknown>[])[j]!;
  const pointPointer = `${device.pointer}/points/${j}`;
  if (typeof rawPoint.topic === 'string') {
    return { text: rawPoint.topic, pointer: `${pointPointer}/topic`, own: true, level: 'point' };
  }
  // A batch device's own topic is that of its batch messages, not a template for its points.
  if (typeof rawDevice.topic === 'string' && device.config.payload !== 'batch') {
    return { text: rawDevice.topic, pointer: `${device.pointer}/topic`, own: false, level: 'device' };
  }
  const siteTopic = validField<string>(ctx, 'topic');
  if (siteTopic !== undefined) return { text: siteTopic, pointer: '/topic', own: false, level: 'site' };
  return { text: SITE_DEFAULTS.topic, pointer: `${pointPointer}/name`, own: false, level: 'default' };
}

function renderPointTopic(
  ctx: CheckContext,
  device: CheckedDevice,
  point: string,
  source: TemplateSource,
  siteVars: Record<string, string> | undefined,
): string | undefined {
  const tags = device.config.tags ?? {};
  const available = [...BUILT_IN, ...Object.keys(tags).filter((t) => !(BUILT_IN as readonly string[]).includes(t))];
  let ok = true;
  for (const name of templateVariables(source.text)) {
    if (available.includes(name)) continue;
    ok = false;
    const list = available.map((v) => `{${v}}`).join(', ');
    const message =
      source.level === 'site'
        ? `template variable {${name}} is not defined for device '${device.config.name}' (available there: ${list})`
        : `unknown template variable {${name}}${didYouMean(name, available, (v) => `{${v}}`)} (available: ${list})`;
    ctx.report(source.pointer, 'value', at(source.pointer, message));
  }
  if (!ok || siteVars === undefined) return undefined;
  return compileTemplate(source.text).render(topicVariables(siteVars as { site: string; gateway: string }, device.config, point));
}

/** The topic of a payload: batch device and its `/meta`: variables, publishability, clashes. */
function checkBatchTopic(
  ctx: CheckContext,
  device: CheckedDevice,
  siteVars: Record<string, string> | undefined,
  readings: Map<string, TopicUse>,
): void {
  const rawDevice = (ctx.root.devices as Record<string, unknown>[])[device.index]!;
  const own = typeof rawDevice.topic === 'string';
  const text = own ? (rawDevice.topic as string) : SITE_DEFAULTS.batch_topic;
  const pointer = own ? `${device.pointer}/topic` : `${device.pointer}/name`;
  const tags = device.config.tags ?? {};
  const available = [...BUILT_IN.filter((v) => v !== 'point'), ...Object.keys(tags).filter((t) => !(BUILT_IN as readonly string[]).includes(t))];
  let ok = true;
  for (const name of templateVariables(text)) {
    if (available.includes(name)) continue;
    ok = false;
    const why =
      name === 'point'
        ? 'a payload: batch device has one topic for all its points, so {point} cannot be used in its topic'
        : `unknown template variable {${name}}${didYouMean(name, available, (v) => `{${v}}`)} (available: ${available.map((v) => `{${v}}`).join(', ')})`;
    ctx.report(pointer, 'value', at(pointer, why));
  }
  if (!ok || siteVars === undefined) return;
  const rendered = compileTemplate(text).render(topicVariables(siteVars as { site: string; gateway: string }, device.config));
  const problem = publishProblem(rendered);
  if (problem) {
    ctx.report(pointer, 'value', at(pointer, `${problem} (batch topic of device ${device.config.name})`));
    return;
  }
  for (const [topic, label] of [
    [rendered, `${device.config.name} (batch)`],
    [`${rendered}/meta`, `${device.config.name} (batch meta)`],
  ] as const) {
    const first = readings.get(topic);
    if (first) {
      ctx.report(pointer, 'value', at(pointer, `topic "${topic}" of device ${label} is also used by ${first.label} (line ${ctx.lineOf(first.pointer)})`));
    } else {
      readings.set(topic, { label, pointer });
    }
  }
}

function publishProblem(topic: string): string | undefined {
  const problem = topicProblem(topic);
  if (problem) return problem;
  // Brokers reserve $-topics ($SYS/…) and will not accept publishes there.
  if (topic.startsWith('$')) return `topic "${topic}" starts with $, which brokers reserve for themselves`;
  return undefined;
}
