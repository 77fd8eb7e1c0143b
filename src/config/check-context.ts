// What the semantic checks get to see. They run on a file that may be partly invalid, so they
// work only on parts that passed the schema (isValid) and on devices that passed their driver's
// schema (devices), and report by JSON pointer; the validator turns pointers into line:col.
import type { DeviceConfigBase, DriverDescriptor } from '../driver-api/index.js';

export interface CheckedDevice {
  /** Index in the `devices` list of the file. */
  index: number;
  /** '/devices/<index>' */
  pointer: string;
  /**
   * As written, plus the core's defaults, what it inherits from the top level and its driver's
   * own defaults (withDefaults): what the driver's check(), resources(), plan() and create() see,
   * so a file behaves the same whether a default is written out or not.
   */
  config: DeviceConfigBase;
  /** As written (positions and messages refer to it). */
  written: DeviceConfigBase;
  driver: DriverDescriptor;
}

export interface CheckContext {
  /** The parsed file (after ${VAR}); a plain object when the check runs. */
  root: Record<string, unknown>;
  /** Directory of the site file, for relative paths. */
  dir: string;
  /** The environment the file is validated in (default paths depend on STATE_DIRECTORY). */
  env: NodeJS.ProcessEnv;
  /** gateway from the file, or the host name. */
  gateway: string;
  devices: readonly CheckedDevice[];
  /** No schema or ${VAR} problem at or below this pointer. */
  isValid(pointer: string): boolean;
  /** 1-based line of a pointer's value, for "first defined on line N" messages. */
  lineOf(pointer: string): number;
  /** `column`: a 0-based position inside a text value (an expression error), when known. */
  report(pointer: string, at: 'key' | 'value', message: string, column?: number): void;
  /** Set by the file checks after reading mqtt.password_file. */
  passwordFromFile?: string;
  /** Set by the file checks after reading http.token_file. */
  tokenFromFile?: string;
  /** Secrets discovered by the checks (passwords inside broker URLs). */
  secrets: string[];
  /** TLS files the checks read (absolute path → bytes), so loading does not read them again. */
  files: Map<string, Buffer>;
}

/** The value at a top-level key when it exists and passed the schema. */
export function validField<T>(ctx: CheckContext, key: string): T | undefined {
  const value = ctx.root[key];
  return value !== undefined && ctx.isValid(`/${key}`) ? (value as T) : undefined;
}
