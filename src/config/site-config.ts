// The validated shape of a site file. Durations and sizes stay strings here (as the user wrote
// them); the parts that use them parse them with parseDuration/parseSize.
import type { DeviceConfigBase } from '../driver-api/index.js';

export interface TlsConfig {
  ca?: string;
  cert?: string;
  key?: string;
  /** Server name for SNI/verification when it differs from the URL host. */
  servername?: string;
}

export interface MqttConfig {
  url?: string;
  urls?: string[];
  client_id?: string;
  username?: string;
  password?: string;
  password_file?: string;
  protocol_version?: 4 | 5;
  qos?: 0 | 1 | 2;
  keepalive?: string;
  connect_timeout?: string;
  tls?: TlsConfig;
  status_topic?: string;
  refused_retry?: string;
}

// One type per enum, owned by the part that acts on it.
import type { SyncMode, WhenFull } from '../journal/journal.js';
import type { PayloadEncoding, PayloadFormat } from '../mapping/payload.js';

export type { SyncMode, WhenFull, PayloadEncoding, PayloadFormat };

export interface BufferConfig {
  path?: string;
  max_messages?: number;
  max_bytes?: string | number;
  when_full?: WhenFull;
  inflight?: number;
  replay_rate?: number;
  synchronous?: SyncMode;
  sync_interval?: string;
  commit_interval?: string;
  memory_fallback?: string | number;
  keep_delivered?: string;
  pack?: boolean;
  max_pack?: number;
  max_pack_bytes?: string | number;
}

export interface HttpConfig {
  listen?: string;
  unhealthy_after?: string;
  /** Token for the status page (and /api/status) on an address other than loopback. */
  token?: string;
  token_file?: string;
}

export interface HomeAssistantConfig {
  enabled?: boolean;
  prefix?: string;
}

/** Opt-in configuration pushed over MQTT (docs/remote-config.md). */
export interface RemoteConfigConfig {
  /** Ed25519 public key (PEM) that candidates must be signed with. */
  public_key: string;
  topic?: string;
  trial?: string;
  max_bytes?: string | number;
}

export interface SiteConfig {
  site: string;
  gateway?: string;
  mqtt: MqttConfig;
  buffer?: BufferConfig;
  topic?: string;
  payload?: PayloadFormat;
  payload_encoding?: PayloadEncoding;
  http?: HttpConfig;
  homeassistant?: HomeAssistantConfig;
  remote_config?: RemoteConfigConfig;
  devices: DeviceConfigBase[];
}
