// The editors' schema for profiles and for devices that use one. Validation never uses these:
// profiles are expanded first and the resulting devices are checked against their driver's schema
// (expand-devices.ts), which is exact. Here a profile or a profiled device may be for any driver,
// so they offer every driver's keys for completion.
import type { DriverDescriptor } from '../driver-api/index.js';
import { PROFILE_NAME_PATTERN } from './profile-library.js';
import { ALL_POINTS } from './profile-builder.js';
import type { JsonSchema } from './schema-units.js';
import { coreDeviceProperties, corePointProperties } from './site-schema.js';

/** One register an `identify:` block reads, and what it must hold (`fieldgate scan`). */
export function identifySchema(): JsonSchema {
  const register: JsonSchema = {
    type: 'object',
    required: ['table', 'address'],
    additionalProperties: false,
    description: 'A register and the value it must hold: equals, pattern (for text), or min/max.',
    properties: {
      table: { enum: ['holding', 'input'], description: 'holding | input' },
      address: { type: 'integer', minimum: 0, maximum: 65535, description: '0-based protocol address.' },
      type: { enum: ['uint16', 'int16', 'uint32', 'int32', 'float32', 'string'], description: 'How the register(s) are read, default uint16.' },
      order: { enum: ['ABCD', 'CDAB', 'BADC', 'DCBA'], description: 'Word/byte order, default ABCD.' },
      length: { type: 'integer', minimum: 1, maximum: 125, description: 'string: number of registers.' },
      equals: { type: ['number', 'string'], description: 'The exact value.' },
      pattern: { type: 'string', description: 'A regular expression the value (as text) must match.' },
      min: { type: 'number', description: 'Lowest plausible value.' },
      max: { type: 'number', description: 'Highest plausible value.' },
    },
  };
  return {
    type: 'object',
    additionalProperties: false,
    description: 'How `fieldgate scan` recognises this device: Modbus device identification (FC 43/14) and/or registers; all given must match.',
    properties: {
      vendor: { type: 'string', description: 'Regular expression for the VendorName of FC 43/14 (case-insensitive).' },
      product: { type: 'string', description: 'Regular expression for the ProductCode or ProductName of FC 43/14 (case-insensitive).' },
      registers: { type: 'array', minItems: 1, items: register, description: 'Registers and the values they must hold.' },
    },
  };
}

/** Point keys `overrides` may set: the core's mapping keys. */
export function overridablePointProperties(): Record<string, JsonSchema> {
  const { name: _name, ...rest } = corePointProperties();
  return rest;
}

/** Properties of several drivers in one map; a key two drivers define differently accepts either form. */
function union(parts: readonly Record<string, JsonSchema>[]): Record<string, JsonSchema> {
  const forms = new Map<string, JsonSchema[]>();
  for (const part of parts) {
    for (const [key, schema] of Object.entries(part)) {
      const list = forms.get(key) ?? [];
      if (!list.some((s) => JSON.stringify(s) === JSON.stringify(schema))) list.push(schema);
      forms.set(key, list);
    }
  }
  const out: Record<string, JsonSchema> = {};
  for (const [key, list] of forms) {
    const description = (list.at(-1) as { description?: string }).description;
    out[key] = list.length === 1 ? list[0]! : ({ anyOf: list, ...(description === undefined ? {} : { description }) } as JsonSchema);
  }
  return out;
}

function anyPoint(drivers: readonly DriverDescriptor[], description: string): JsonSchema {
  const properties = union([...drivers.map((d) => d.pointSchema.properties as Record<string, JsonSchema>), corePointProperties()]);
  return { type: 'array', description, items: { type: 'object', required: ['name'], additionalProperties: false, properties } };
}

/** Keys that change a profile's points, on a device or a profile that extends another. */
function overlayProperties(drivers: readonly DriverDescriptor[]): Record<string, JsonSchema> {
  return {
    points_add: anyPoint(drivers, "Points added to the profile's (a name the profile has is refused)."),
    points_omit: { type: 'array', items: { type: 'string' }, description: "Names of the profile's points not to read." },
    overrides: {
      type: 'object',
      description: `Per-point mapping keys by point name ('${ALL_POINTS}' = every point), e.g. voltage: { deadband: 0.5 }.`,
      additionalProperties: { type: 'object', additionalProperties: false, properties: overridablePointProperties() },
    },
  };
}

/** Every driver's device keys, plus the core's: what a profile or a profiled device may set. */
function anyDeviceProperties(drivers: readonly DriverDescriptor[]): Record<string, JsonSchema> {
  const properties = union(drivers.map((d) => withFanOut(d.deviceSchema.properties as Record<string, JsonSchema>, d)));
  const { profile: _p, profile_version: _v, ...core } = coreDeviceProperties();
  return {
    ...properties,
    ...core,
    driver: { enum: drivers.map((d) => d.type), description: drivers.map((d) => `${d.type}: ${d.description}`).join('\n') },
  };
}

/** A driver's device properties with its fan-out key also accepting a list (and ranges). */
export function withFanOut(properties: Record<string, JsonSchema>, driver: Pick<DriverDescriptor, 'fanOut'>): Record<string, JsonSchema> {
  const rule = driver.fanOut;
  const single = rule ? properties[rule.key] : undefined;
  if (!rule || !single) return properties;
  const item: JsonSchema = rule.ranges ? { anyOf: [single, { type: 'string', pattern: '^\\s*\\d+\\s*-\\s*\\d+\\s*$' }] } : single;
  const list: JsonSchema = { type: 'array', minItems: 1, maxItems: 256, items: item };
  const description = `${(single as { description?: string }).description ?? ''} A list${rule.ranges ? ' (with ranges such as "5-12")' : ''} makes one device per value; put {${rule.key}} in the name.`.trim();
  return { ...properties, [rule.key]: { anyOf: [single, list], description } };
}

/** A profile: in a profile file, or a value of the site file's `profiles:` map. */
export function profileSchema(drivers: readonly DriverDescriptor[]): JsonSchema {
  const { name: _n, ...device } = anyDeviceProperties(drivers);
  return {
    type: 'object',
    additionalProperties: false,
    description: 'A device profile: driver, defaults and points, used by devices with profile: <name>.',
    properties: {
      version: { type: ['string', 'number'], description: 'Version of this register map; shown by plan/read and in the /meta message.' },
      description: { type: 'string', description: 'What device this profile is for, and the source of its register map.' },
      extends: { type: 'string', pattern: PROFILE_NAME_PATTERN, description: 'Build on another profile; change its points with points_add, points_omit and overrides.' },
      identify: identifySchema(),
      ...device,
      points: anyPoint(drivers, 'Values read from this kind of device.'),
      ...overlayProperties(drivers),
    },
  };
}

/** A device that says `profile:`: its own keys, any driver's device keys, and the overlay keys. */
export function profiledDeviceSchema(drivers: readonly DriverDescriptor[]): JsonSchema {
  return {
    type: 'object',
    required: ['name', 'profile'],
    additionalProperties: false,
    properties: {
      ...anyDeviceProperties(drivers),
      name: templateName(),
      profile: coreDeviceProperties().profile,
      ...overlayProperties(drivers),
    },
  };
}

/** A device name in the editors' schema: a name, or a fan-out template such as "meter-{unit_id}". */
export function templateName(): JsonSchema {
  return {
    type: 'string',
    pattern: '^([A-Za-z0-9_.-]|\\{[a-z_]+\\})+$',
    description: 'Device name; {device} in topics. An entry with a list of ids names each device by a template such as "meter-{unit_id}".',
  };
}
