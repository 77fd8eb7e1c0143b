// The serial-line driver: ASCII lines from a port, parsed into point values.
//
// Listen mode (no `request`): every complete line is decoded as it arrives and emitted through
// ctx.emit with its arrival time. A point whose field is missing or invalid in a line is simply
// not emitted for that line (the line is counted as a 'parse' error); other points of the line are.
//
// Request/response mode (`request` set): poll() writes the request and collects `reply_lines`
// lines until `timeout`. No line at all rejects with DeviceError 'timeout'; otherwise each point
// is a reading, with quality 'bad' when its field was missing or invalid (counted as 'parse').
// Lines that arrive outside a poll are dropped.
import {
  CommandError, DeviceError,
  type Driver, type DriverContext, type Reading, type Scalar,
  errorText,
} from '../../src/driver-api/index.js';
import { decodeEscapes } from './escapes.js';
import { compileCommandTemplate, renderCommand, type CommandTemplate } from './command-template.js';
import type { FieldType } from './field-type.js';
import { LineSplitter } from './line-splitter.js';
import {
  cleanLine, compileLineParser, decodeLines, pointSpecs, reasonWithGot, truncateLine,
  type Decoded, type InvalidLine, type LineParser, type PointSpec,
} from './line-parser.js';
import { SERIAL_DEFAULTS, resolveSettings, type SerialDeviceConfig, type SerialSettings } from './serial-config.js';
import { SerialLink, type LinkOptions, type PortOpener } from './serial-link.js';

/** Test seams: a mock port, a fast reconnect, the device path check. */
export interface SerialDriverOptions extends LinkOptions {
  opener?: PortOpener;
}

interface PendingReply {
  lines: string[];
  /** Reply lines that were not valid UTF-8: they count toward reply_lines and as parse errors. */
  invalid: Decoded['badLines'];
  lastTs: number;
  complete: () => void;
}

interface WritableSpec {
  template: CommandTemplate;
  type: FieldType;
  maxLength: number;
}

export class SerialDriver implements Driver {
  private readonly settings: SerialSettings;
  private readonly parser: LineParser;
  private readonly specs: PointSpec[];
  private readonly writable = new Map<string, WritableSpec>();
  private readonly splitter: LineSplitter;
  private readonly link: SerialLink;
  private reply: PendingReply | undefined;
  /** Polls and writes share the line; a command reply must never be read as a poll reply. */

  constructor(
    private readonly device: SerialDeviceConfig,
    private readonly ctx: DriverContext,
    options: SerialDriverOptions = {},
  ) {
    this.settings = resolveSettings(device);
    this.specs = pointSpecs(device);
    this.parser = compileLineParser({
      format: device.format,
      pattern: device.pattern,
      separator: device.separator,
      columns: device.columns,
      fields: this.specs.map((s) => s.field),
    });
    for (const p of device.points) {
      if (p.writable === true && p.command !== undefined) {
        this.writable.set(p.name, {
          template: compileCommandTemplate(decodeEscapes(p.command)),
          type: p.type ?? SERIAL_DEFAULTS.type,
          maxLength: p.max_length ?? SERIAL_DEFAULTS.max_length,
        });
      }
    }
    this.splitter = new LineSplitter(this.settings.delimiter, this.settings.maxLine);
    this.link = new SerialLink(
      this.settings,
      ctx,
      { data: (chunk) => this.guarded(() => this.onData(chunk)), opened: () => this.onOpened() },
      options.opener,
      options,
    );
  }

  async start(): Promise<void> {
    await this.link.start();
  }

  async stop(): Promise<void> {
    this.reply?.complete();
    await this.link.stop();
  }

  async poll(): Promise<Reading[]> {
    // A listen-mode device has nothing to ask; its readings arrive through ctx.emit.
    if (this.settings.mode === 'listen') return [];
    return this.transact();
  }

  async write(point: string, value: Scalar): Promise<void> {
    const spec = this.writable.get(point);
    if (!spec) {
      const known = this.device.points.some((p) => p.name === point);
      throw known
        ? new CommandError('not_writable', `point ${point} is not writable`)
        : new CommandError('unknown_point', `device ${this.device.name} has no point ${point}`);
    }
    const text = renderCommand(spec.template, value, spec.type, {
      maxLength: spec.maxLength,
      delimiter: this.settings.delimiter.toString('utf8'),
    });
    // No lock of our own: the host never runs a write alongside a poll of this device.
    await this.link.write(Buffer.from(text, 'utf8'));
  }

  private async transact(): Promise<Reading[]> {
    const { timeoutMs, replyLines, request } = this.settings;
    // A fragment left over from before the request would be glued to the front of the reply.
    this.splitter.reset();
    let timer: NodeJS.Timeout | undefined;
    const reply: PendingReply = { lines: [], invalid: [], lastTs: 0, complete: () => undefined };
    const done = new Promise<void>((resolve) => {
      reply.complete = resolve;
      timer = setTimeout(resolve, timeoutMs);
    });
    // Installed before writing: a quick device can answer before the write callback fires.
    this.reply = reply;
    try {
      await this.link.write(request!);
      await done;
    } finally {
      clearTimeout(timer);
      this.reply = undefined;
    }
    const received = reply.lines.length + reply.invalid.length;
    if (received === 0) {
      throw new DeviceError('timeout', `no reply from ${this.settings.path} within ${timeoutMs}ms`);
    }
    if (received < replyLines) {
      this.ctx.logger.debug({ got: received, expected: replyLines }, 'reply incomplete at timeout');
    }
    const parsed = decodeLines(this.parser, this.specs, reply.lines);
    const decoded: Decoded = { ...parsed, badLines: [...reply.invalid, ...parsed.badLines] };
    this.reportParse(decoded, [...reply.invalid.map((b) => b.line), ...reply.lines]);
    const ts = reply.lastTs;
    const bad = new Map(decoded.failures.map((f) => [f.point, f.reason]));
    const noLine = decoded.badLines[0]?.reason ?? 'no reply line parsed';
    return this.specs.map((spec): Reading => {
      const good = decoded.values.find((v) => v.point === spec.point);
      if (good) return { point: spec.point, value: good.value, ts, quality: 'good' };
      return { point: spec.point, value: null, ts, quality: 'bad', error: bad.get(spec.point) ?? noLine };
    });
  }

  /** Runs inside serialport's 'data' event, where a throw would take the whole process down. */
  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.ctx.logger.warn({ err: errorText(err) }, 'serial data handling failed');
    }
  }

  private onOpened(): void {
    // After (re)opening we may have joined a line half-way; its tail must not pass for a line.
    const skip = this.settings.mode === 'listen' && this.settings.firstLine === 'skip';
    this.splitter.reset(skip ? 'skip_partial' : 'clean');
  }

  private onData(chunk: Buffer): void {
    const ts = this.ctx.clock.now();
    const { lines, overflows } = this.splitter.push(chunk);
    for (let i = 0; i < overflows; i += 1) {
      this.ctx.logger.debug({ max_line: this.settings.maxLine }, 'serial line too long; dropped up to the next delimiter');
      this.ctx.reportError(
        'overflow',
        new DeviceError('overflow', `no delimiter within max_line (${this.settings.maxLine} bytes); data dropped`),
      );
    }
    for (const raw of lines) {
      const line = cleanLine(raw, this.settings.ignore);
      if (line !== undefined) this.onLine(line, ts);
    }
  }

  private onLine(line: string | InvalidLine, ts: number): void {
    if (this.settings.mode === 'request') {
      const reply = this.reply;
      if (!reply) {
        this.ctx.logger.debug({ line: truncateLine(typeof line === 'string' ? line : line.shown) }, 'line outside a request dropped');
        return;
      }
      if (typeof line === 'string') reply.lines.push(line);
      else reply.invalid.push({ line: line.shown, reason: line.invalid });
      reply.lastTs = ts;
      if (reply.lines.length + reply.invalid.length >= this.settings.replyLines) reply.complete();
      return;
    }
    if (typeof line !== 'string') {
      this.reportParse({ values: [], failures: [], badLines: [{ line: line.shown, reason: line.invalid }] }, [line.shown]);
      return;
    }
    const decoded = decodeLines(this.parser, this.specs, [line]);
    this.reportParse(decoded, [line]);
    if (decoded.values.length > 0) {
      this.ctx.emit(decoded.values.map((v) => ({ point: v.point, value: v.value, ts, quality: 'good' })));
    }
  }

  private reportParse(decoded: Decoded, lines: readonly string[]): void {
    if (decoded.badLines.length === 0 && decoded.failures.length === 0) return;
    const reasons = [
      ...decoded.badLines.map(reasonWithGot),
      ...decoded.failures.map((f) => `${f.point}: ${reasonWithGot(f)}`),
    ];
    const text = truncateLine(lines.join(' ⏎ '));
    this.ctx.logger.debug({ line: text, reasons }, 'serial line did not parse');
    this.ctx.reportError('parse', new DeviceError('parse', `${reasons.join('; ')} in ${JSON.stringify(text)}`));
  }
}
