// Reads a site file from disk and validates it; the only part of src/config that opens the file.
import type { DriverDescriptor } from '../driver-api/index.js';
import { FileReadError, readBoundedFile } from '../util/read-bounded-file.js';
import { ConfigError } from './config-error.js';
import { SITE_FILE_MAX_BYTES } from './file-limits.js';
import type { ResolvedSite } from './resolved-site.js';
import { validateSiteText, type ValidateOptions } from './validate-site.js';

/** Throws ConfigError (code config_invalid) listing every problem, including a missing file. */
export function loadSite(
  file: string,
  env: NodeJS.ProcessEnv,
  drivers: readonly DriverDescriptor[],
  options: ValidateOptions = {},
): ResolvedSite {
  let text: string;
  try {
    text = readBoundedFile(file, SITE_FILE_MAX_BYTES).toString('utf8');
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    const why = err.problem === 'directory' ? 'the site file is a directory' : `the site file ${err.detail}`;
    throw new ConfigError([{ file, line: 1, col: 1, message: why }], { cause: err });
  }
  // A BOM from a Windows editor is not part of the YAML.
  return validateSiteText(text.replace(/^\uFEFF/, ''), file, env, drivers, options);
}
