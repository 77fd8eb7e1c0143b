// The first stage after parsing: devices that name a `profile:` are built from it (with their
// own keys and overlay applied), and a device whose fan-out key holds a list becomes one device
// per id. Everything after this stage (schema, checks, defaults, reload) sees plain devices, as if
// each had been written out in full; the SourceMap remembers where each piece was written.
import { isRecord } from '../util/is-record.js';
import { fanOutIds, idForName, isFanOut } from './fan-out.js';
import {
  escapeKey, OVERLAY_KEYS, pointsOf, ProfileBuilder, type BuiltProfile, type ExpandIssue, type Piece,
} from './profile-builder.js';
import type { FileIssue, ProfileLibrary } from './profile-library.js';
import { SourceMap, type Origin, type SourceDoc } from './source-map.js';
import { at } from './schema-errors.js';

export type { ExpandIssue } from './profile-builder.js';

const DEVICE_RE = /^\/devices\/\d+/;

/** Which device key a driver fans out over, and whether it takes "a-b" ranges. */
export interface FanOutRule {
  key: string;
  ranges: boolean;
}

export interface ExpandOptions {
  site: SourceDoc;
  library: ProfileLibrary;
  /** Point keys `overrides` may set. */
  overridable: readonly string[];
  fanOut(driver: string): FanOutRule | undefined;
}

export interface ExpandedSite {
  /** The site file's value with `devices` replaced by the expanded list (the written value is untouched). */
  value: unknown;
  map: SourceMap;
  issues: ExpandIssue[];
  fileIssues: FileIssue[];
  /** Expanded pointers whose values could not be read or built: later stages skip them. */
  broken: string[];
}

export function expandDevices(options: ExpandOptions): ExpandedSite {
  const { site } = options;
  const map = new SourceMap(site);
  const issues: ExpandIssue[] = [];
  const fileIssues: FileIssue[] = [];
  const root = site.source.value;
  const out: ExpandedSite = { value: root, map, issues, fileIssues, broken: [] };
  if (!isRecord(root) || !Array.isArray(root.devices)) {
    out.broken = [...site.source.brokenPointers];
    return out;
  }
  const builder = new ProfileBuilder({ library: options.library, overridable: options.overridable, issues, fileIssues });
  const devices: unknown[] = [];
  const brokenSet = new Set(site.source.brokenPointers.filter((p) => !p.startsWith('/devices/')));
  // Broken pointers by the written device (site file) or file (profiles) they are in, so placing a
  // device looks only at its own: a file with thousands of unset ${VAR}s stays linear.
  const brokenByScope = new Map<string, string[]>();
  const scopeOf = (doc: SourceDoc, pointer: string): string => (doc === site ? (DEVICE_RE.exec(pointer)?.[0] ?? '') : doc.file);
  const indexed = new Set<SourceDoc>();
  const brokenIn = (doc: SourceDoc, pointer: string): readonly string[] => {
    if (!indexed.has(doc)) {
      indexed.add(doc);
      for (const b of doc.source.brokenPointers) {
        const scope = `${doc.file}\u0000${scopeOf(doc, b)}`;
        const list = brokenByScope.get(scope);
        if (list) list.push(b);
        else brokenByScope.set(scope, [b]);
      }
    }
    return brokenByScope.get(`${doc.file}\u0000${scopeOf(doc, pointer)}`) ?? [];
  };
  const place = (value: unknown, origins: [string, Origin][], broken: boolean): void => {
    const pointer = `/devices/${devices.length}`;
    devices.push(value);
    for (const [suffix, origin] of origins) {
      map.record(pointer + suffix, origin);
      // Values the YAML layer could not read, wherever they were written, stay skipped.
      for (const b of brokenIn(origin.doc, origin.pointer)) {
        if (b === origin.pointer || b.startsWith(`${origin.pointer}/`)) brokenSet.add(pointer + suffix + b.slice(origin.pointer.length));
      }
    }
    if (broken) brokenSet.add(pointer);
  };

  root.devices.forEach((written: unknown, j) => {
    const base = `/devices/${j}`;
    const name = isRecord(written) && typeof written.name === 'string' ? written.name : `#${j + 1}`;
    const plain: Origin = { doc: site, pointer: base, device: name };
    if (!isRecord(written)) {
      place(written, [['', plain]], false);
      return;
    }
    const device = buildDevice(written, base, name, site, builder, issues);
    if (!device) {
      place(written, [['', plain]], true);
      return;
    }
    const driver = device.keys.get('driver')?.value;
    const rule = typeof driver === 'string' ? options.fanOut(driver) : undefined;
    const idPiece = rule ? device.keys.get(rule.key) : undefined;
    if (!rule || !idPiece || !isFanOut(idPiece.value, rule.ranges)) {
      const single = rule && idPiece && (typeof idPiece.value === 'number' || typeof idPiece.value === 'string') ? idPiece.value : undefined;
      const templated = single !== undefined && name.includes(`{${rule!.key}}`);
      // A device written out in full stays as written: one origin covers all of it.
      if (!device.profile && !templated) place(written, [['', plain]], false);
      else place(...assemble(templated ? withId(device, rule!.key, single) : device, site, base, name, false));
      return;
    }
    const { ids, problems } = fanOutIds(rule.key, idPiece.value, rule.ranges);
    for (const p of problems) {
      const pointer = p.item === undefined ? idPiece.pointer : `${idPiece.pointer}/${p.item}`;
      issues.push({ doc: idPiece.doc, pointer, at: 'value', message: at(pointer, p.message) });
    }
    const template = device.keys.get('name');
    const placeholder = `{${rule.key}}`;
    if (ids.length > 1 && !(typeof template?.value === 'string' && template.value.includes(placeholder))) {
      const pointer = template?.pointer ?? base;
      issues.push({
        doc: site, pointer, at: 'value',
        message: at(pointer, `one entry makes ${ids.length} devices (${rule.key}: a list): put ${placeholder} in the name so each gets its own, e.g. "${name}-${placeholder}"`),
      });
      place(written, [['', plain]], true);
      return;
    }
    if (problems.length > 0) {
      place(written, [['', plain]], true);
      return;
    }
    for (const id of ids) {
      const one = withId(device, rule.key, id.value, id.item === undefined ? idPiece : { ...idPiece, pointer: `${idPiece.pointer}/${id.item}` });
      place(...assemble(one, site, base, String(one.keys.get('name')?.value ?? name), true));
    }
  });
  out.value = { ...root, devices };
  out.broken = [...brokenSet];
  return out;
}

/** A device as pieces: its profile applied, or its written keys as they are. */
interface DevicePieces {
  keys: Map<string, Piece>;
  points: { list: Piece; items: ReturnType<typeof pointsOf> } | undefined;
  profile: BuiltProfile | undefined;
}

function buildDevice(
  written: Record<string, unknown>, base: string, name: string, site: SourceDoc, builder: ProfileBuilder, issues: ExpandIssue[],
): DevicePieces | undefined {
  const here = (key: string): Piece => ({ value: written[key], doc: site, pointer: `${base}/${escapeKey(key)}` });
  const report = (key: string, side: 'key' | 'value', message: string): void => {
    issues.push({ doc: site, pointer: here(key).pointer, at: side, message: at(here(key).pointer, message) });
  };
  if (written.profile === undefined) {
    const overlay = OVERLAY_KEYS.filter((k) => written[k] !== undefined);
    for (const key of overlay) report(key, 'key', `${key} changes the points of a profile; this device names no profile:`);
    if (overlay.length > 0) return undefined;
    const keys = new Map<string, Piece>();
    for (const [key, value] of Object.entries(written)) if (key !== 'points') keys.set(key, { value, doc: site, pointer: `${base}/${escapeKey(key)}` });
    const points = written.points === undefined ? undefined : { list: here('points'), items: pointsOf(here('points')) };
    return { keys, points, profile: undefined };
  }
  if (typeof written.profile !== 'string') {
    report('profile', 'value', 'profile: takes the name of a profile');
    return undefined;
  }
  const profile = builder.build(written.profile, here('profile'), name);
  if (!profile) return undefined;
  // These problems are reported and the profile's value used, so the device is still checked.
  if (written.points !== undefined) {
    report('points', 'key', `the points come from profile '${profile.name}': add points with points_add, change them with overrides, drop them with points_omit`);
  }
  if (written.driver !== undefined && written.driver !== profile.driver) {
    report('driver', 'value', `profile '${profile.name}' is for driver '${profile.driver}'; leave driver: out or write '${profile.driver}'`);
  }
  if (written.profile_version !== undefined) {
    report('profile_version', 'key', `profile_version is taken from the profile's version: and not written on a device`);
  }
  const result: BuiltProfile = { ...profile, keys: new Map(profile.keys), points: profile.points.map((p) => ({ ...p, keys: new Map(p.keys) })) };
  builder.overlay(result, site, base, written, name);
  // The profile's driver is the one its points are written for.
  const driver = profile.keys.get('driver');
  if (driver) result.keys.set('driver', driver);
  result.keys.delete('profile_version');
  result.keys.set('profile', here('profile'));
  return { keys: result.keys, points: { list: result.pointsAt, items: result.points }, profile };
}

/** The device with its fan-out key set to one id and the id put into its name and tag values. */
function withId(device: DevicePieces, key: string, id: number | string, idPiece?: Piece): DevicePieces {
  const keys = new Map(device.keys);
  if (idPiece) keys.set(key, { ...idPiece, value: id });
  const placeholder = `{${key}}`;
  const name = keys.get('name');
  if (name && typeof name.value === 'string') keys.set('name', { ...name, value: name.value.split(placeholder).join(idForName(id)) });
  const tags = keys.get('tags');
  if (tags && isRecord(tags.value)) {
    const filled = Object.fromEntries(Object.entries(tags.value).map(([k, v]) => [k, typeof v === 'string' ? v.split(placeholder).join(String(id)) : v]));
    keys.set('tags', { ...tags, value: filled });
  }
  return { ...device, keys };
}

/** The plain device object and the origin of each of its parts, relative to the device's pointer. */
function assemble(device: DevicePieces, site: SourceDoc, base: string, name: string, fannedOut: boolean): [unknown, [string, Origin][], boolean] {
  const profile = device.profile?.name;
  const origin = (piece: Piece): Origin => ({
    doc: piece.doc, pointer: piece.pointer, device: name,
    ...(profile === undefined ? {} : { profile }),
    ...(fannedOut ? { fannedOut } : {}),
  });
  const origins: [string, Origin][] = [['', origin({ value: undefined, doc: site, pointer: base })]];
  const value: Record<string, unknown> = {};
  const set = (key: string, piece: Piece): void => {
    value[key] = piece.value;
    origins.push([`/${escapeKey(key)}`, origin(piece)]);
  };
  for (const [key, piece] of device.keys) if (key !== 'profile') set(key, piece);
  if (device.profile) {
    set('profile', device.keys.get('profile')!);
    if (device.profile.version !== undefined) {
      const at = device.profile.at;
      set('profile_version', { ...at, value: device.profile.version, pointer: `${at.pointer}/version` });
    }
  }
  if (device.points) {
    value.points = device.points.items.map((point, i) => {
      origins.push([`/points/${i}`, origin(point.whole)]);
      if (!isRecord(point.whole.value)) return point.whole.value;
      const out: Record<string, unknown> = {};
      for (const [key, piece] of point.keys) {
        out[key] = piece.value;
        origins.push([`/points/${i}/${escapeKey(key)}`, origin(piece)]);
      }
      return out;
    });
    origins.push(['/points', origin(device.points.list)]);
  }
  return [value, origins, false];
}
