// Home Assistant's device and state class of a sensor, inferred from the unit a point publishes.
// Home Assistant checks the unit against the device class, so the unit it is told is the one it
// expects (`C` becomes `°C`); the readings themselves keep the unit of the site file.

export interface UnitClasses {
  deviceClass?: string;
  stateClass?: 'measurement' | 'total' | 'total_increasing';
  /** The unit as Home Assistant spells it. */
  unit?: string;
}

const MEASURED: Record<string, string> = {
  W: 'power', kW: 'power', MW: 'power',
  VA: 'apparent_power', kVA: 'apparent_power',
  var: 'reactive_power', kvar: 'reactive_power',
  V: 'voltage', mV: 'voltage', kV: 'voltage',
  A: 'current', mA: 'current',
  Hz: 'frequency', kHz: 'frequency',
  '°C': 'temperature', '°F': 'temperature', K: 'temperature',
  Pa: 'pressure', hPa: 'pressure', kPa: 'pressure', bar: 'pressure', mbar: 'pressure', psi: 'pressure',
  ppm: 'carbon_dioxide',
  lx: 'illuminance',
  dBm: 'signal_strength',
};

const COUNTED: Record<string, string> = {
  Wh: 'energy', kWh: 'energy', MWh: 'energy',
  'm³': 'volume', L: 'volume',
};

const SPELLING: Record<string, string> = { C: '°C', degC: '°C', F: '°F', degF: '°F', m3: 'm³', l: 'L', VAr: 'var', kVAr: 'kvar' };

export function unitClasses(unit: string | undefined): UnitClasses {
  if (unit === undefined || unit === '') return {};
  const spelled = SPELLING[unit] ?? unit;
  if (MEASURED[spelled]) return { deviceClass: MEASURED[spelled], stateClass: 'measurement', unit: spelled };
  if (COUNTED[spelled]) return { deviceClass: COUNTED[spelled], stateClass: 'total_increasing', unit: spelled };
  // A percentage is a measurement of something Home Assistant cannot guess (humidity, battery, load).
  return { stateClass: 'measurement', unit: spelled };
}
