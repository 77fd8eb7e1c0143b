// The advertisement formats a BLE device may use: where each one lives in BlueZ's Device1
// properties and which decoder and field list belong to it.
import { BTHOME_FIELDS, BTHOME_SERVICE_UUID, decodeBthome, isBthomeField } from './bthome.js';
import type { AdvertisementFormat } from './config.js';
import type { DecodedAdvertisement, FieldInfo } from './decoded-advertisement.js';
import { RUUVI_COMPANY_ID, RUUVI_FIELDS, decodeRuuvi } from './ruuvi.js';

/** Device1 advertisement data as the scanner sees it, already unwrapped from D-Bus variants. */
export interface AdvertisementData {
  manufacturerData?: ReadonlyMap<number, Buffer>;
  serviceData?: ReadonlyMap<string, Buffer>;
}

/** Fields every advertisement device has besides its format's: the RSSI BlueZ measured. */
export const COMMON_FIELDS: readonly FieldInfo[] = [
  { name: 'rssi', unit: 'dBm', description: 'received signal strength of the last advertisement' },
];

interface FormatSpec {
  fields: readonly FieldInfo[];
  hasField(name: string): boolean;
  /** The payload of this format, or undefined when the update does not carry it. */
  payload(data: AdvertisementData): Buffer | undefined;
  decode(payload: Uint8Array): DecodedAdvertisement;
  /** What the payload is called in messages. */
  source: string;
}

const ruuviNames = new Set(RUUVI_FIELDS.map((f) => f.name));

export const ADVERTISEMENT_FORMATS: Readonly<Record<AdvertisementFormat, FormatSpec>> = {
  ruuvi: {
    fields: RUUVI_FIELDS,
    hasField: (name) => ruuviNames.has(name) || name === 'rssi',
    payload: (data) => data.manufacturerData?.get(RUUVI_COMPANY_ID),
    decode: decodeRuuvi,
    source: 'manufacturer data 0x0499',
  },
  bthome: {
    fields: BTHOME_FIELDS,
    hasField: (name) => isBthomeField(name) || name === 'rssi',
    payload: (data) => data.serviceData?.get(BTHOME_SERVICE_UUID),
    decode: decodeBthome,
    source: 'service data 0xFCD2',
  },
};
