// A profile resolved through its `extends` chain, and the one overlay step shared by a profile
// that extends another and by a device that uses a profile: keys replace the profile's,
// `points_omit` removes points, `points_add` appends them, `overrides` changes per-point mapping
// keys (deadband, heartbeat, topic, unit, …). Every value keeps the file and pointer it was
// written at (Piece), so the assembled device can be traced back for error positions.
import { isRecord } from '../util/is-record.js';
import type { SourceDoc } from './source-map.js';
import type { FileIssue, ProfileLibrary } from './profile-library.js';
import { didYouMean } from './suggest.js';
import { at } from './schema-errors.js';

/** A value and where it was written. */
export interface Piece {
  value: unknown;
  doc: SourceDoc;
  pointer: string;
  /** The profile it came from; undefined for values written on the device. */
  profile?: string;
}

export interface BuiltPoint {
  name: string | undefined;
  /** The point as a whole (its map in the file it was written in). */
  whole: Piece;
  keys: Map<string, Piece>;
}

export interface BuiltProfile {
  name: string;
  version: string | undefined;
  driver: string;
  keys: Map<string, Piece>;
  points: BuiltPoint[];
  /** Where the point list was written (for problems about the list as a whole). */
  pointsAt: Piece;
  /** The profile's own map (of the named profile, not of the one it extends). */
  at: Piece;
}

/** A problem found while expanding, at a pointer of the file it is in. */
export interface ExpandIssue {
  doc: SourceDoc;
  pointer: string;
  at: 'key' | 'value';
  message: string;
  /** The device it concerns, named in messages about profile files. */
  device?: string;
}

/** Keys of a profile that describe it and never reach a device. */
export const PROFILE_META_KEYS = ['version', 'description', 'extends', 'identify'] as const;
/** Keys that change a profile's points; on a device or a profile that extends another. */
export const OVERLAY_KEYS = ['points_add', 'points_omit', 'overrides'] as const;
/** `overrides` key for every point of the profile. */
export const ALL_POINTS = '*';

export interface BuildContext {
  library: ProfileLibrary;
  /** Point keys an override may set (the core's mapping keys). */
  overridable: readonly string[];
  issues: ExpandIssue[];
  fileIssues: FileIssue[];
}

/** Resolves profiles once each; problems inside a profile are reported once, naming its first user. */
export class ProfileBuilder {
  private readonly built = new Map<string, BuiltProfile | null>();

  constructor(private readonly ctx: BuildContext) {}

  /** The profile `name`, referred to at `ref` by `device`; undefined when it cannot be used (already reported). */
  build(name: string, ref: Piece, device: string, chain: readonly string[] = []): BuiltProfile | undefined {
    if (chain.includes(name)) {
      const cycle = [...chain, name].join(' → ');
      this.report(ref, 'value', `profiles extend each other in a cycle: ${cycle}`, device);
      return undefined;
    }
    const memo = this.built.get(name);
    if (memo !== undefined) return memo ?? undefined;
    this.built.set(name, null);
    const result = this.resolve(name, ref, device, chain);
    this.built.set(name, result ?? null);
    return result;
  }

  private resolve(name: string, ref: Piece, device: string, chain: readonly string[]): BuiltProfile | undefined {
    const found = this.ctx.library.find(name);
    if (found.kind === 'missing') {
      const known = this.ctx.library.names();
      const hint = didYouMean(name, known) || (known.length > 0 ? '' : ' (no profiles/ folder next to the site file, no profile_paths, no profiles: map)');
      this.report(ref, 'value', `unknown profile '${name}'${hint}`, ref.profile === undefined ? undefined : device);
      return undefined;
    }
    if (found.kind === 'broken') {
      for (const issue of found.issues) this.ctx.fileIssues.push(issue);
      return undefined;
    }
    const { entry } = found;
    const v = entry.value;
    const here = (key: string): Piece => ({ value: v[key], doc: entry.doc, pointer: `${entry.base}/${key}`, profile: name });
    const self: Piece = { value: v, doc: entry.doc, pointer: entry.base, profile: name };
    let ok = true;
    for (const key of ['name', 'profile']) {
      if (v[key] !== undefined) this.report(here(key), 'key', `a profile has no '${key}': each device names itself and its profile`, device);
    }
    const version = v.version;
    if (version !== undefined && typeof version !== 'string' && typeof version !== 'number') {
      this.report(here('version'), 'value', 'version is text such as "1.2" or 2024-03', device);
      ok = false;
    }
    let result: BuiltProfile | undefined;
    if (v.extends !== undefined) {
      if (typeof v.extends !== 'string') {
        this.report(here('extends'), 'value', 'extends takes the name of another profile', device);
        return undefined;
      }
      if (v.points !== undefined) {
        this.report(here('points'), 'key', `a profile that extends another changes its points with points_add, points_omit and overrides`, device);
      }
      const parent = this.build(v.extends, here('extends'), device, [...chain, name]);
      if (!parent) return undefined;
      if (v.driver !== undefined && v.driver !== parent.driver) {
        this.report(here('driver'), 'value', `profile '${v.extends}' is for driver '${parent.driver}'; a profile that extends it is too`, device);
      }
      result = { ...parent, name, keys: new Map(parent.keys), points: parent.points.map(copyPoint), at: self };
      this.overlay(result, entry.doc, entry.base, v, device, name);
      result.keys.set('driver', parent.keys.get('driver')!);
    } else {
      if (typeof v.driver !== 'string') {
        this.report(self, 'value', `profile '${name}' needs driver: (or extends: another profile)`, device);
        return undefined;
      }
      if (!Array.isArray(v.points)) {
        const where = v.points === undefined ? self : here('points');
        this.report(where, 'value', `profile '${name}' needs points: (a list)`, device);
        return undefined;
      }
      for (const key of OVERLAY_KEYS) {
        if (v[key] !== undefined) {
          this.report(here(key), 'key', `${key} changes the points of another profile; this profile extends none (write its points directly)`, device);
        }
      }
      result = {
        name,
        version: undefined,
        driver: v.driver,
        keys: new Map(),
        points: pointsOf(here('points')),
        pointsAt: here('points'),
        at: self,
      };
      for (const [key, value] of Object.entries(v)) {
        if (key === 'points' || (PROFILE_META_KEYS as readonly string[]).includes(key)) continue;
        result.keys.set(key, { value, doc: entry.doc, pointer: `${entry.base}/${escapeKey(key)}`, profile: name });
      }
    }
    result.version = version === undefined || !ok ? undefined : String(version);
    // A profile with a problem still builds its devices, so problems further on are found in the same pass.
    result.keys.delete('name');
    result.keys.delete('profile');
    return result;
  }

  /**
   * Applies `overlay` (the map at `base` in `doc`) to `target`, reporting what it cannot apply. `owner`
   * is the profile being defined, or undefined for a device.
   */
  overlay(target: BuiltProfile, doc: SourceDoc, base: string, overlay: Record<string, unknown>, device: string, owner?: string): void {
    const piece = (suffix: string, value: unknown): Piece => ({ value, doc, pointer: `${base}${suffix}`, profile: owner });
    // A problem skips the one entry it is in; the rest still applies, so later stages still run.
    const fail = (where: Piece, side: 'key' | 'value', message: string): void => this.report(where, side, message, device);
    const known = (): string[] => target.points.flatMap((p) => (p.name === undefined ? [] : [p.name]));
    const unknownPoint = (name: string): string => `no point '${name}' in profile '${target.name}'${didYouMean(name, known())}`;

    const omit = overlay.points_omit;
    if (omit !== undefined) {
      if (!Array.isArray(omit)) fail(piece('/points_omit', omit), 'value', 'points_omit is a list of point names');
      else {
        omit.forEach((name: unknown, i) => {
          const index = target.points.findIndex((p) => p.name === name);
          if (typeof name !== 'string') fail(piece(`/points_omit/${i}`, name), 'value', 'points_omit lists point names');
          else if (index < 0) fail(piece(`/points_omit/${i}`, name), 'value', unknownPoint(name));
          else target.points.splice(index, 1);
        });
      }
    }
    const add = overlay.points_add;
    if (add !== undefined) {
      if (!Array.isArray(add)) fail(piece('/points_add', add), 'value', 'points_add is a list of points');
      else {
        for (const point of pointsOf(piece('/points_add', add))) {
          if (point.name !== undefined && known().includes(point.name)) {
            const where = point.keys.get('name')!;
            fail(where, 'value', `point '${point.name}' is already in profile '${target.name}'; change it with overrides, or list it in points_omit first`);
          } else {
            target.points.push(point);
          }
        }
      }
    }
    const overrides = overlay.overrides;
    if (overrides !== undefined) {
      if (!isRecord(overrides)) fail(piece('/overrides', overrides), 'value', `overrides maps point names (or '${ALL_POINTS}' for all) to keys such as deadband: 0.5`);
      else {
        // '*' first: a named point's own override wins over the one for all points.
        const names = Object.keys(overrides).sort((a, b) => Number(b === ALL_POINTS) - Number(a === ALL_POINTS));
        for (const name of names) {
          const at = `/overrides/${escapeKey(name)}`;
          const keys = overrides[name];
          const points = name === ALL_POINTS ? target.points : target.points.filter((p) => p.name === name);
          if (points.length === 0 && name !== ALL_POINTS) {
            fail(piece(at, keys), 'key', unknownPoint(name));
            continue;
          }
          if (!isRecord(keys)) {
            fail(piece(at, keys), 'value', `overrides.${name} is a map of point keys, e.g. deadband: 0.5`);
            continue;
          }
          for (const [key, value] of Object.entries(keys)) {
            const where = piece(`${at}/${escapeKey(key)}`, value);
            if (!this.ctx.overridable.includes(key)) {
              fail(where, 'key', `'${key}' cannot be overridden${didYouMean(key, this.ctx.overridable)}; overrides set ${this.ctx.overridable.join(', ')} (the register map stays the profile's: add a point with points_add instead)`);
              continue;
            }
            for (const point of points) point.keys.set(key, where);
          }
        }
      }
    }
    for (const [key, value] of Object.entries(overlay)) {
      if ((OVERLAY_KEYS as readonly string[]).includes(key) || (PROFILE_META_KEYS as readonly string[]).includes(key)) continue;
      if (key === 'profile' || key === 'points') continue;
      target.keys.set(key, piece(`/${escapeKey(key)}`, value));
    }
  }

  private report(where: Piece, side: 'key' | 'value', message: string, device: string | undefined): void {
    const shown = at(where.pointer, message);
    this.ctx.issues.push({
      doc: where.doc,
      pointer: where.pointer,
      at: side,
      message: shown,
      // Problems inside a profile name the device that led to them; the site file's own do not need it.
      ...(where.profile !== undefined && device !== undefined ? { device } : {}),
    });
  }
}

/** The points of a list, each keyed by its written keys. */
export function pointsOf(list: Piece): BuiltPoint[] {
  if (!Array.isArray(list.value)) return [];
  return list.value.map((point: unknown, i): BuiltPoint => {
    const whole: Piece = { ...list, value: point, pointer: `${list.pointer}/${i}` };
    const keys = new Map<string, Piece>();
    if (isRecord(point)) {
      for (const [key, value] of Object.entries(point)) keys.set(key, { ...whole, value, pointer: `${whole.pointer}/${escapeKey(key)}` });
    }
    const name = isRecord(point) && typeof point.name === 'string' ? point.name : undefined;
    return { name, whole, keys };
  });
}

function copyPoint(point: BuiltPoint): BuiltPoint {
  return { ...point, keys: new Map(point.keys) };
}

export function escapeKey(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

