// Reads a site file from disk and validates it; the only part of src/config that opens the file.
import fs from 'node:fs';
import type { DriverDescriptor } from '../driver-api/index.js';
import { ConfigError } from './config-error.js';
import type { LoadedSite } from './site-config.js';
import { validateSiteText, type ValidateOptions } from './validate-site.js';

/** Throws ConfigError (code config_invalid) listing every problem, including a missing file. */
export function loadSite(
  file: string,
  env: NodeJS.ProcessEnv,
  drivers: readonly DriverDescriptor[],
  options: ValidateOptions = {},
): LoadedSite {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'the site file does not exist'
      : code === 'EISDIR' ? 'the site file is a directory'
      : code === 'EACCES' ? 'the site file cannot be read (permission denied)'
      : `the site file cannot be read (${(err as Error).message})`;
    throw new ConfigError([{ file, line: 1, col: 1, message: why }], { cause: err });
  }
  // A BOM from a Windows editor is not part of the YAML.
  return validateSiteText(text.replace(/^\uFEFF/, ''), file, env, drivers, options);
}
