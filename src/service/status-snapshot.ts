// The shape of /api/status: what the status page shows, documented for scripts in
// docs/operations.md. Plain data, built by the gateway on request.
export interface PointStatus {
  name: string;
  topic: string;
  value: unknown;
  unit?: string;
  quality: 'good' | 'bad' | null;
  error?: string;
  /** Acquisition time of the last reading (ISO), null before the first. */
  ts: string | null;
}

export interface DeviceStatus {
  name: string;
  driver: string;
  healthy: boolean;
  last_error: string | null;
  last_error_at: string | null;
  polls: number;
  /** Faults by kind (timeout, exception, parse, ...), since start. */
  errors: Record<string, number>;
  /** The driver's request plan (Modbus), if it has one. */
  plan: string | null;
  points: PointStatus[];
}

export interface StatusSnapshot {
  site: string;
  gateway: string;
  version: string;
  started: string;
  uptime_s: number;
  config: { file: string; version: string; loaded: string };
  uplink: { connected: boolean; broker: string; since: string; reconnects: number };
  backlog: {
    available: boolean;
    /** 'memory' while the journal is held in memory because its storage failed. */
    storage: 'file' | 'memory';
    journal: string;
    depth: number;
    bytes: number;
    oldest_age_s: number | null;
    drops: Record<string, number>;
    /** Rows acknowledged by the broker per second, over the last 10 s. */
    delivered_per_s: number;
  };
  devices: DeviceStatus[];
}
