// Prometheus metrics of one gateway instance. Its own Registry (not prom-client's global one), so
// several gateways in one process (tests) never share counters.
import { Counter, Gauge, Registry } from 'prom-client';
import { PendingCounts } from './pending-counts.js';

export interface BacklogSnapshot {
  depth: number;
  bytes: number;
  oldestAgeSeconds: number;
  /** False while the journal cannot be opened (readings are refused and counted). */
  available: boolean;
  /** The journal's storage failed and it goes on in memory (memory-fallback.ts). */
  inMemory?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly readings: Counter<'device'>;
  readonly pollErrors: Counter<'device' | 'kind'>;
  readonly published: Counter<'result'>;
  readonly drops: Counter<'reason'>;
  readonly reconnects: Counter;
  readonly commands: Counter<'result'>;
  readonly journalResets: Counter<'reason'>;
  readonly inflight: Gauge;
  readonly connected: Gauge;
  /** 1 for the site-file version in force (remote_config), labelled with it and its state. */
  readonly configVersion: Gauge<'version' | 'state'>;
  private readonly pendingReadings = new PendingCounts<'device'>();
  private readonly pendingPublished = new PendingCounts<'result'>();
  private backlog: () => BacklogSnapshot = () => ({ depth: 0, bytes: 0, oldestAgeSeconds: 0, available: true });
  private inflightSource: () => number = () => 0;
  private clockSource: () => boolean = () => true;

  constructor() {
    const registers = [this.registry];
    const readings = this.pendingReadings;
    this.readings = new Counter({
      name: 'fieldgate_readings_total', help: 'Readings acquired, by device.', labelNames: ['device'], registers,
      collect() { readings.flushInto(this); },
    });
    this.pollErrors = new Counter({
      name: 'fieldgate_poll_errors_total', help: 'Device faults, by device and kind.', labelNames: ['device', 'kind'], registers,
    });
    const published = this.pendingPublished;
    this.published = new Counter({
      name: 'fieldgate_publish_total', help: 'Publishes confirmed by the broker (ok) or failed (error).', labelNames: ['result'], registers,
      collect() { published.flushInto(this); },
    });
    this.drops = new Counter({
      name: 'fieldgate_dropped_total', help: 'Messages dropped under the capacity policy, by reason.', labelNames: ['reason'], registers,
    });
    this.reconnects = new Counter({
      name: 'fieldgate_mqtt_reconnects_total', help: 'MQTT connection attempts after a loss.', registers,
    });
    this.commands = new Counter({
      name: 'fieldgate_commands_total', help: 'Commands from the cloud, by result.', labelNames: ['result'], registers,
    });
    this.journalResets = new Counter({
      name: 'fieldgate_journal_resets_total',
      help: 'Journals started afresh because the old one was missing, replaced or corrupt (its undelivered rows are lost), or continued above their seq lease because the machine went down with them open (power_loss).',
      labelNames: ['reason'], registers,
    });
    const inflight = (): number => this.inflightSource();
    this.inflight = new Gauge({
      name: 'fieldgate_inflight_messages', help: 'Publishes awaiting acknowledgement.', registers,
      collect() { this.set(inflight()); },
    });
    this.connected = new Gauge({
      name: 'fieldgate_mqtt_connected', help: '1 while connected to the broker.', registers,
    });
    const backlog = (): BacklogSnapshot => this.backlog();
    this.configVersion = new Gauge({
      name: 'fieldgate_config_version_info', help: 'The site-file version in force (remote configuration) and its state.', labelNames: ['version', 'state'], registers,
    });
    new Gauge({
      name: 'fieldgate_backlog_messages', help: 'Messages in the journal not yet acknowledged.', registers,
      collect() { this.set(backlog().depth); },
    });
    new Gauge({
      name: 'fieldgate_backlog_bytes', help: 'Bytes of the messages in the journal.', registers,
      collect() { this.set(backlog().bytes); },
    });
    new Gauge({
      name: 'fieldgate_journal_available', help: '1 while the journal is open; 0 while readings are refused because it cannot be opened.', registers,
      collect() { this.set(backlog().available ? 1 : 0); },
    });
    new Gauge({
      name: 'fieldgate_journal_in_memory',
      help: '1 while the journal is held in memory because its storage failed (SD card read-only, I/O errors): readings still flow, but a stop loses what it holds.',
      registers,
      collect() { this.set(backlog().inMemory ? 1 : 0); },
    });
    const clockSynchronized = (): boolean => this.clockSource();
    new Gauge({
      name: 'fieldgate_clock_synchronized',
      help: '1 while the system clock is synchronized (or the system cannot tell); 0 while readings wait for a sync or go out flagged "clock":"unsynced".',
      registers,
      collect() { this.set(clockSynchronized() ? 1 : 0); },
    });
    new Gauge({
      name: 'fieldgate_backlog_oldest_age_seconds', help: 'Age of the oldest journaled message.', registers,
      collect() { this.set(backlog().oldestAgeSeconds); },
    });
  }

  /** Counts readings of one device on the poll path; they reach fieldgate_readings_total when metrics are read. */
  readingsOf(device: string): (n?: number) => void {
    return this.pendingReadings.adder({ device });
  }

  /** Counts publishes with this result on the forwarder's path; read like readingsOf(). */
  publishedWith(result: 'ok' | 'error'): (n?: number) => void {
    return this.pendingPublished.adder({ result });
  }

  /** Only the version in force keeps a series: the previous one is removed. */
  setConfigVersion(version: string, state: string): void {
    this.configVersion.reset();
    this.configVersion.set({ version, state }, 1);
  }

  /** The backlog gauges are read from the journal at scrape time rather than updated per message. */
  setBacklogSource(source: () => BacklogSnapshot): void {
    this.backlog = source;
  }

  /** Read at scrape time from the forwarder, like the backlog gauges. */
  setInflightSource(source: () => number): void {
    this.inflightSource = source;
  }

  setClockSource(source: () => boolean): void {
    this.clockSource = source;
  }
}
