// JSON Schema of the site file: a core part written here, plus each driver's deviceSchema and
// pointSchema merged into the device/point objects. The same pieces serve two purposes:
// validation (staged: top level, then each device against its own driver) and the schema file
// editors use (one document, `if driver == x then …` per driver).
import type { DriverDescriptor } from '../driver-api/index.js';
import { DURATION_PATTERN, SIZE_PATTERN } from '../util/duration.js';
import { SITE_DEFAULTS } from './defaults.js';
import { durationSchema, sizeSchema, UNIT_KEYWORDS, type DurationRange, type JsonSchema } from './schema-units.js';
import { RELOAD_KEYWORD, type ReloadEffect } from './reload-plan.js';
import { PROFILE_NAME_PATTERN } from './profile-library.js';
import { profiledDeviceSchema, profileSchema, templateName, withFanOut } from './profile-schema.js';

export type { JsonSchema } from './schema-units.js';

/** Device and point names become topic levels and metric labels. */
export const NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]*$';
/** Tag names become template variables: {area}. */
export const TAG_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
export const SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

const text = (description: string): JsonSchema => ({ type: 'string', description });
const duration = (description: string, range: DurationRange, def?: string): JsonSchema =>
  durationSchema(`${description} Duration such as 500ms, 5s, 1m, 1h30m;`, range, def);

/**
 * Ranges of the core's durations (docs/configuration.md lists them). Poll intervals and
 * heartbeats may legitimately be long (a meter read once a day); they run on chained timers.
 * Timeouts and retry paces get a ceiling a real network or broker could need.
 */
export const CORE_RANGES = {
  keepalive: { min: '0s', max: '65535s' },
  connect_timeout: { min: '1ms', max: '10m' },
  refused_retry: { min: '100ms', max: '1h' },
  unhealthy_after: { min: '1ms', max: '30d' },
  interval: { min: '1ms', max: '366d' },
  heartbeat: { min: '1ms', max: '366d' },
  trial: { min: '1s', max: '1h' },
  keep_delivered: { min: '0s', max: '366d' },
  commit_interval: { min: '0s', max: '10s' },
  sync_interval: { min: '100ms', max: '30s' },
} as const satisfies Record<string, DurationRange>;
const name = (description: string): JsonSchema => ({ type: 'string', pattern: NAME_PATTERN, description });
const qos = (description: string, def?: number): JsonSchema => ({
  enum: [0, 1, 2],
  description,
  ...(def === undefined ? {} : { default: def }),
});
/**
 * Marks what a reload must do when this key changes (reload-plan.ts reads it): the rule stays next
 * to the key it governs. Not a validation keyword; left out of the editors' schema.
 */
const reload = (effects: ReloadEffect[], schema: JsonSchema): JsonSchema => ({ ...schema, [RELOAD_KEYWORD]: effects });
const strictObject = (properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  properties,
  additionalProperties: false,
  ...extra,
});

function mqttSchema(): JsonSchema {
  const m = SITE_DEFAULTS.mqtt;
  return strictObject(
    {
      url: text('Broker URL, mqtt://host:1883 or mqtts://host:8883. Use either url or urls.'),
      urls: {
        type: 'array',
        minItems: 1,
        items: { type: 'string' },
        description: 'Several broker URLs for failover, tried in turn. Use either url or urls.',
      },
      client_id: {
        type: 'string',
        minLength: 1,
        default: m.client_id,
        description: 'MQTT client id; may use {site} and {gateway}.',
      },
      username: text('User name for the broker.'),
      // writeOnly marks a secret: error messages never quote its value.
      password: { ...text('Password for the broker; write ${VAR} to take it from the environment.'), writeOnly: true },
      password_file: {
        type: 'string',
        minLength: 1,
        description: 'File holding the password (trailing newline ignored); instead of password.',
      },
      protocol_version: { enum: [4, 5], default: m.protocol_version, description: '4 = MQTT 3.1.1, 5 = MQTT 5.' },
      // Points inherit it: their devices restart with the new QoS.
      qos: reload(['uplink', 'devices'], qos('Default QoS of readings.', m.qos)),
      keepalive: duration('MQTT keepalive (0s = off).', CORE_RANGES.keepalive, m.keepalive),
      connect_timeout: duration('How long one connection attempt may take.', CORE_RANGES.connect_timeout, m.connect_timeout),
      tls: strictObject(
        {
          ca: text('CA certificate file (PEM) to trust, relative to the site file.'),
          cert: text('Client certificate file (PEM) for mutual TLS; needs key.'),
          key: text('Client private key file (PEM); needs cert.'),
          servername: text('Server name for SNI and certificate checks when it differs from the URL host.'),
        },
        { description: 'TLS settings; needs mqtts:// URLs.' },
      ),
      status_topic: {
        type: 'string',
        default: m.status_topic,
        description: 'Topic for the gateway online/offline status; may use {site} and {gateway}.',
      },
      refused_retry: duration(
        'How often to retry while connection attempts never reach the broker (refused, no route, DNS); such attempts cost about 100 bytes each. Failures at the broker itself back off to 30s.',
        CORE_RANGES.refused_retry,
        m.refused_retry,
      ),
    },
    { description: 'Upstream MQTT broker.' },
  );
}

function bufferSchema(): JsonSchema {
  const b = SITE_DEFAULTS.buffer;
  return strictObject(
    {
      path: reload(['next_start'], { type: 'string', minLength: 1, description: 'SQLite journal file (a regular file or none yet; its directory is created). Default $STATE_DIRECTORY/buffer.db, else data/buffer.db next to the site file.' }),
      // The journal is never reopened by a reload: its own settings wait for the next start.
      max_messages: reload(['next_start'], {
        type: 'integer',
        minimum: 1,
        maximum: 1_000_000_000,
        default: b.max_messages,
        description: 'Most readings kept, 1 to 1000000000.',
      }),
      max_bytes: reload(['next_start'], sizeSchema('Largest journal size, e.g. 256MiB, 1GB or a number of bytes;', { min: '64KiB', max: '1024GiB' }, b.max_bytes)),
      when_full: reload(['next_start'], { enum: ['drop_oldest', 'drop_newest'], default: b.when_full, description: 'What to drop when full.' }),
      synchronous: reload(['next_start'], {
        enum: ['normal', 'full'],
        default: b.synchronous,
        description: 'SQLite synchronous mode: normal flushes commits to storage every sync_interval; full flushes every commit before its readings are published (nothing committed is lost on a power cut; an fsync per commit).',
      }),
      sync_interval: reload(['next_start'], duration(
        'With synchronous: normal, longest a committed reading stays in the operating system\'s cache before the journal flushes it to storage: what a power cut can take from the journal. Linux alone would take up to 30s.',
        CORE_RANGES.sync_interval,
        b.sync_interval,
      )),
      commit_interval: reload(['next_start'], duration(
        'Longest a reading waits to be committed, so that one transaction holds several polls: fewer writes to the SD card and less CPU, for that much delay; readings still waiting are lost if the process is killed or the power is cut (not on a stop or reload). 0s = commit at once.',
        CORE_RANGES.commit_interval,
        b.commit_interval,
      )),
      memory_fallback: reload(['next_start'], sizeSchema(
        'If the journal\'s storage fails while the gateway runs (an SD card worn out or gone read-only, a disk removed), the journal goes on in memory, holding up to this much (and no more than max_bytes): readings are still published and an outage still bridged, but what memory holds is lost if the gateway stops before the storage is repaired. 0 = readings are lost instead;',
        { min: 0, max: '1GiB' },
        b.memory_fallback,
      )),
      // Decided by the journal at open (it expires or keeps rows from then on).
      keep_delivered: reload(['next_start'], duration(
        'Keep acknowledged readings this long, marked delivered, within max_messages/max_bytes (undelivered ones win), so that `cmd/replay` can send them again; absent or 0s = off.',
        CORE_RANGES.keep_delivered,
      )),
      // The forwarder's knobs: it is rebuilt with the uplink.
      inflight: {
        type: 'integer',
        minimum: 1,
        maximum: 65000,
        default: b.inflight,
        description: 'Messages sent but not yet acknowledged by the broker.',
      },
      replay_rate: {
        type: 'number',
        minimum: 0,
        maximum: 1_000_000,
        default: b.replay_rate,
        description: 'Messages per second while a backlog drains, and for a replay on request (cmd/replay), 0 to 1000000; 0 = unlimited.',
      },
      pack: {
        type: 'boolean',
        default: b.pack,
        description: 'While a backlog drains, pack readings of the same topic into one message (see docs/consumers.md for unpacking).',
      },
      max_pack: {
        type: 'integer',
        minimum: 1,
        maximum: 100000,
        default: b.max_pack,
        description: 'Most readings in one packed message.',
      },
      max_pack_bytes: sizeSchema(
        "Largest packed message payload, e.g. 64KiB; the broker's Maximum Packet Size (MQTT 5) also applies;",
        { min: '1KiB', max: '256MiB' },
        b.max_pack_bytes,
      ),
    },
    { description: 'Store-and-forward journal.', [RELOAD_KEYWORD]: ['uplink'] },
  );
}

function httpSchema(): JsonSchema {
  return strictObject(
    {
      listen: text('Address for /metrics, /healthz and the status page, e.g. 127.0.0.1:9464 (loopback); another address needs token for the page.'),
      // writeOnly marks a secret: error messages never quote its value.
      token: {
        type: 'string',
        minLength: 16,
        writeOnly: true,
        description: 'Token for the status page and /api/status when listen is not a loopback address (at least 16 characters); write ${VAR} to take it from the environment.',
      },
      token_file: { type: 'string', minLength: 1, description: 'File holding the status page token (trailing newline ignored); instead of token.' },
      unhealthy_after: duration(
        'Report unhealthy when no reading went out for this long.',
        CORE_RANGES.unhealthy_after,
        SITE_DEFAULTS.http.unhealthy_after,
      ),
    },
    { required: ['listen'], description: 'Metrics and health endpoint; absent = no port is opened.', [RELOAD_KEYWORD]: ['http'] },
  );
}

function remoteConfigSchema(): JsonSchema {
  const r = SITE_DEFAULTS.remote_config;
  return strictObject(
    {
      public_key: { type: 'string', minLength: 1, description: 'Ed25519 public key (PEM) candidates must be signed with (`fieldgate config keygen`), relative to the site file.' },
      topic: { type: 'string', minLength: 1, default: r.topic, description: 'Topic candidates arrive on; may use {site} and {gateway}. Refusals and outcomes go to <topic>/status.' },
      trial: duration('How long a new version has to prove itself (uplink connected, the devices healthy before read good values again) before it is rolled back.', CORE_RANGES.trial, r.trial),
      max_bytes: sizeSchema('Largest candidate message accepted, e.g. 1MiB;', { min: '1KiB', max: '8MiB' }, r.max_bytes),
    },
    { required: ['public_key'], description: 'Signed site files pushed over MQTT, tried and rolled back automatically (docs/remote-config.md); absent = off.' },
  );
}

const PAYLOAD: JsonSchema = {
  enum: ['json', 'value', 'batch'],
  description: 'json = {"value":…,"ts":…,"seq":…} per point; value = the bare value; batch = one message per poll on the device topic with every due point.',
};
const PAYLOAD_ENCODING: JsonSchema = {
  enum: ['json', 'cbor'],
  description: 'json = text; cbor = compact binary (RFC 8949), content type application/cbor with MQTT 5. Not with payload: value.',
};

export function corePointProperties(): Record<string, JsonSchema> {
  return {
    name: name('Point name; {point} in topics.'),
    topic: text('Topic template for this point.'),
    qos: qos('QoS for this point (default: mqtt.qos).'),
    retain: { type: 'boolean', default: SITE_DEFAULTS.point.retain, description: 'Publish with the retain flag.' },
    unit: text('Unit of measure, e.g. C, kWh.'),
    scale: { type: 'number', description: 'value = raw * scale + offset.' },
    offset: { type: 'number', description: 'value = raw * scale + offset.' },
    deadband: { type: 'number', minimum: 0, description: 'Publish only when the value moved by at least this much (text and booleans: when it changed).' },
    heartbeat: duration(
      'Publish at least this often even inside the deadband; without a deadband: on every change and at least this often.',
      CORE_RANGES.heartbeat,
    ),
    writable: { type: 'boolean', description: 'Accept commands on <topic>/set.' },
    min: { type: 'number', description: 'Lowest value a command may write.' },
    max: { type: 'number', description: 'Highest value a command may write.' },
    homeassistant: strictObject(
      {
        component: { enum: ['sensor', 'binary_sensor', 'number', 'switch', 'text'], description: 'Home Assistant platform; inferred from writable, the value type and min/max.' },
        device_class: { type: 'string', minLength: 1, description: 'Home Assistant device class; inferred from the unit; none = no device class.' },
        state_class: { enum: ['measurement', 'total', 'total_increasing', 'none'], description: 'Home Assistant state class; inferred from the unit.' },
      },
      { description: 'How Home Assistant discovery shows this point (when homeassistant.enabled).' },
    ),
    expr: {
      type: 'string',
      minLength: 1,
      description: 'Computed point: an expression over the other points of the device, e.g. p_l1 + p_l2 + p_l3 (+ - * / ( ) min max abs round); takes no driver keys.',
    },
  };
}

export function coreDeviceProperties(): Record<string, JsonSchema> {
  return {
    name: name('Device name; {device} in topics.'),
    driver: { type: 'string', description: 'Driver type.' },
    interval: duration('Poll interval.', CORE_RANGES.interval, SITE_DEFAULTS.device.interval),
    topic: text('Topic template for the points of this device; with payload: batch, the topic of its batch messages (default {site}/{device}).'),
    payload: PAYLOAD,
    payload_encoding: PAYLOAD_ENCODING,
    tags: {
      type: 'object',
      propertyNames: { pattern: TAG_NAME_PATTERN },
      additionalProperties: { type: 'string' },
      description: 'Extra template variables, e.g. area: north gives {area}.',
    },
    profile: { type: 'string', pattern: PROFILE_NAME_PATTERN, description: 'Profile this device is built from (driver, defaults and points); see docs/configuration.md.' },
    profile_version: { type: 'string', description: "The profile's version: filled in from the profile, not written by hand." },
  };
}

/** The full schema of one device of the given driver; core keys win over driver keys of the same name. */
export function deviceSchemaFor(driver: DriverDescriptor): JsonSchema {
  // A computed point (expr) is the core's: the driver's required keys apply to the others only.
  const driverRequired = (driver.pointSchema.required ?? []).filter((k) => k !== 'name');
  const point = strictObject(
    { ...driver.pointSchema.properties, ...corePointProperties() } as Record<string, JsonSchema>,
    {
      required: ['name'],
      // Ajv's strict mode wants each required key declared beside it; a bare description adds no rule.
      ...(driverRequired.length > 0
        ? {
            if: { properties: { expr: { description: 'A computed point.' } }, required: ['expr'] },
            else: {
              properties: Object.fromEntries(driverRequired.map((k) => [k, { description: 'Required unless the point is computed (expr).' }])),
              required: driverRequired,
            },
          }
        : {}),
    },
  );
  return strictObject(
    {
      ...(driver.deviceSchema.properties as Record<string, JsonSchema>),
      ...coreDeviceProperties(),
      driver: { const: driver.type, description: driver.description },
      points: { type: 'array', minItems: 1, items: point, description: 'Values read from this device.' },
    },
    { required: unique(['name', 'driver', 'points', ...(driver.deviceSchema.required ?? [])]) },
  );
}

/** Top level with only `name` and `driver` checked per device; devices are checked per driver afterwards. */
export function topLevelSchema(): JsonSchema {
  const { name: deviceName, driver } = coreDeviceProperties();
  return topLevelWith({ type: 'object', required: ['name', 'driver'], properties: { name: deviceName, driver } });
}

function topLevelWith(deviceItems: JsonSchema, profileItems: JsonSchema = { type: 'object' }): JsonSchema {
  return strictObject(
    {
      // Client id, status topic and every topic are rendered from these.
      site: reload(['uplink', 'devices'], name('Site name; {site} in templates.')),
      gateway: reload(['uplink', 'devices'], name('Gateway name; {gateway} in templates. Default: the host name.')),
      mqtt: reload(['uplink'], mqttSchema()),
      buffer: bufferSchema(),
      http: httpSchema(),
      // Discovery is published on every connection: a changed section reconnects and announces anew.
      homeassistant: reload(['uplink'], strictObject(
        {
          enabled: { type: 'boolean', default: SITE_DEFAULTS.homeassistant.enabled, description: 'Publish Home Assistant MQTT discovery messages (one per device).' },
          prefix: {
            type: 'string',
            pattern: '^[^#+]+$',
            default: SITE_DEFAULTS.homeassistant.prefix,
            description: "Home Assistant's discovery prefix; its birth message is expected on <prefix>/status.",
          },
        },
        { description: 'Home Assistant MQTT discovery (docs/home-assistant.md).' },
      )),
      // Its subscription lives on the uplink: a change re-subscribes with the rebuilt uplink.
      remote_config: reload(['uplink'], remoteConfigSchema()),
      topic: reload(['devices'], { type: 'string', default: SITE_DEFAULTS.topic, description: 'Default topic template.' }),
      payload: reload(['devices'], { ...PAYLOAD, default: SITE_DEFAULTS.payload }),
      payload_encoding: reload(['devices'], { ...PAYLOAD_ENCODING, default: SITE_DEFAULTS.payload_encoding }),
      devices: { type: 'array', minItems: 1, items: deviceItems, description: 'Devices to read.' },
      // A profile's effect shows up in the devices built from it, which the plan compares.
      profiles: reload([], {
        type: 'object',
        propertyNames: { pattern: PROFILE_NAME_PATTERN },
        additionalProperties: profileItems,
        description: 'Profiles defined in this file, by name; devices use them with profile: <name>.',
      }),
      profile_paths: reload([], {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        description: 'More directories of profile files (<name>.yaml), relative to the site file; searched after profiles/ next to it.',
      }),
    },
    {
      required: ['site', 'mqtt', 'devices'],
      // Room for anchors: `x-meter: &meter {…}` holds a block that devices merge with `<<: *meter`.
      patternProperties: { '^x-': { description: 'Ignored: a place for YAML anchors that devices merge with <<.' } },
    },
  );
}

/** The one-document schema for editors (yaml-language-server and the like). */
export function buildSiteSchema(drivers: readonly DriverDescriptor[]): JsonSchema {
  // A device with profile: takes its driver and points from the profile (profile-schema.ts);
  // any other names its driver and is checked against that driver's schema.
  const items: JsonSchema = {
    type: 'object',
    properties: {
      name: templateName(),
      driver: {
        enum: drivers.map((d) => d.type),
        description: drivers.map((d) => `${d.type}: ${d.description}`).join('\n'),
      },
      profile: coreDeviceProperties().profile,
    },
    if: { properties: { profile: coreDeviceProperties().profile }, required: ['profile'] },
    then: profiledDeviceSchema(drivers),
    else: {
      required: ['name', 'driver', 'points'],
      allOf: drivers.map((d) => {
        const schema = deviceSchemaFor(d) as { properties: Record<string, JsonSchema> };
        return {
          if: { properties: { driver: { const: d.type } }, required: ['driver'] },
          then: { ...schema, properties: { ...withFanOut(schema.properties, d), name: templateName() } },
        };
      }),
    },
  };
  return editorForm({
    $schema: SCHEMA_DRAFT,
    title: 'fieldgate site file',
    description: 'Devices, points and the MQTT broker of one fieldgate gateway. See docs/configuration.md.',
    ...topLevelWith(items, profileSchema(drivers)),
  }) as JsonSchema;
}

/** The schema of a profile file, for editors (`fieldgate schema --profile`). */
export function profileSchemaText(drivers: readonly DriverDescriptor[]): string {
  const schema = editorForm({
    $schema: SCHEMA_DRAFT,
    title: 'fieldgate device profile',
    ...profileSchema(drivers),
  });
  return JSON.stringify(schema, null, 2) + '\n';
}

/** The schema file as committed: 2-space JSON plus a final newline. */
export function siteSchemaText(drivers: readonly DriverDescriptor[]): string {
  return JSON.stringify(buildSiteSchema(drivers), null, 2) + '\n';
}

// Editors do not know our custom formats; spell them as patterns so they still underline typos.
function editorForm(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(editorForm);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (UNIT_KEYWORDS.includes(key) || key === RELOAD_KEYWORD) continue;
    if (key === 'format' && (inner === 'duration' || inner === 'size')) {
      out.pattern = inner === 'duration' ? DURATION_PATTERN : SIZE_PATTERN;
    } else {
      out[key] = editorForm(inner);
    }
  }
  return out;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
