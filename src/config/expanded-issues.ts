// Turns problems found in the expanded site file into `file:line:col: message` in the file the
// user has to edit. A problem inside a profile is shown at its line in the profile file and names
// the device(s) it hit; one problem shared by many devices (a profile used by 40 meters) is one
// line naming the first few.
import type { SiteIssue } from './config-error.js';
import type { ExpandIssue } from './profile-builder.js';
import { displayPath, type PathIssue } from './schema-errors.js';
import { spotOffset, type SourceDoc, type SourceMap } from './source-map.js';

const DEVICE_RE = /^\/devices\/\d+/;
const SHOWN_DEVICES = 3;

interface Placed {
  doc: SourceDoc;
  offset: number;
  message: string;
  device?: string;
}

export class IssuePlacer {
  private readonly placed: Placed[] = [];

  constructor(private readonly map: SourceMap) {}

  /** A problem at a pointer of the expanded file (schema and semantic checks). */
  addPath(issue: PathIssue): void {
    const { doc, offset, located } = this.map.offsetOf(issue.pointer, issue.at, issue.column);
    const origin = located.origin;
    const device = DEVICE_RE.exec(issue.pointer)?.[0];
    if (!origin || device === undefined) {
      this.placed.push({ doc, offset, message: issue.message });
      return;
    }
    const elsewhere = doc !== this.map.site || origin.fannedOut === true;
    this.placed.push({
      doc,
      offset,
      message: this.relabel(issue.message, issue.pointer, device),
      ...(elsewhere ? { device: origin.device } : {}),
    });
  }

  /** A problem the expansion found, already at a pointer of the file it is in. */
  addExpand(issue: ExpandIssue): void {
    this.placed.push({
      doc: issue.doc,
      offset: spotOffset(issue.doc.source, issue.pointer, issue.at),
      message: issue.message,
      ...(issue.device === undefined ? {} : { device: issue.device }),
    });
  }

  addOffset(doc: SourceDoc, offset: number, message: string): void {
    this.placed.push({ doc, offset, message });
  }

  issues(): SiteIssue[] {
    const groups = new Map<string, { first: Placed; devices: string[] }>();
    for (const p of this.placed) {
      const key = `${p.doc.file}\u0000${p.offset}\u0000${p.message}`;
      const group = groups.get(key);
      if (!group) groups.set(key, { first: p, devices: p.device === undefined ? [] : [p.device] });
      else if (p.device !== undefined && !group.devices.includes(p.device)) group.devices.push(p.device);
    }
    return [...groups.values()].map(({ first, devices }) => {
      const { line, col } = first.doc.source.lineCounter.linePos(first.offset);
      return { file: first.doc.file, line, col, message: first.message + deviceSuffix(devices) };
    });
  }

  /**
   * Messages start with the expanded path (`devices[7].points[2].address: …`); the user wrote
   * neither index. The longest leading path is replaced by where it was written
   * (`points[1].address` in the profile file, `devices[2].unit_id[1]` in the site file).
   */
  private relabel(message: string, pointer: string, device: string): string {
    for (let p = pointer; p.length >= device.length; p = p.slice(0, p.lastIndexOf('/'))) {
      const shown = displayPath(p);
      const rest = message.slice(shown.length);
      if (!message.startsWith(shown) || !/^[:.[ ]/.test(rest)) continue;
      const written = displayPath(this.map.locate(p).pointer);
      return written === '' ? rest.replace(/^[:.] ?/, '') : written + rest;
    }
    return message;
  }
}

function deviceSuffix(devices: readonly string[]): string {
  if (devices.length === 0) return '';
  if (devices.length === 1) return ` (device '${devices[0]}')`;
  const shown = devices.slice(0, SHOWN_DEVICES).map((d) => `'${d}'`).join(', ');
  const more = devices.length - SHOWN_DEVICES;
  return ` (devices ${shown}${more > 0 ? ` and ${more} more` : ''})`;
}
