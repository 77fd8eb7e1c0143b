// Which site file the gateway runs, when remote configuration is on. The local file
// (/etc/fieldgate/config.yaml, a conffile the package owns) stays the operator's: the gateway runs
// the active stored version unless the local file changed since it was last recorded, in which
// case the local edit wins and is recorded as a version of its own. Changes are detected by
// content (sha256), not by file times, which a gateway without an RTC cannot trust.
//
// Stored versions are validated as if they were the local file (same directory), so relative
// paths in them (password_file, TLS files, the key) mean what they mean in the local file.
import path from 'node:path';
import type { Clock, DriverDescriptor } from '../driver-api/index.js';
import { defaultBufferPath } from '../config/defaults.js';
import { SITE_FILE_MAX_BYTES } from '../config/file-limits.js';
import { loadSite } from '../config/load-site.js';
import type { ResolvedSite } from '../config/resolved-site.js';
import { SiteValidator } from '../config/validate-site.js';
import { FileReadError, readBoundedFile } from '../util/read-bounded-file.js';
import { sha256, VersionStore, VersionStoreError, type TrialRecord, type VersionEntry } from './version-store.js';
import { ConfigError } from '../config/config-error.js';

/** More process starts than this during one trial: the new version is taken to be the cause. */
export const MAX_TRIAL_STARTS = 3;

export interface SiteVersionsOptions {
  localFile: string;
  env: NodeJS.ProcessEnv;
  drivers: readonly DriverDescriptor[];
  clock: Clock;
  /** Where versions are kept; default `config/` beside the journal's default place (/var/lib/fieldgate/config). */
  storeDir?: string;
}

export interface StartChoice {
  site: ResolvedSite;
  /** The stored version it is, when remote configuration is on. */
  entry: VersionEntry | undefined;
  /** A trial the previous process left unfinished (it resumes), with its start count. */
  trial: TrialRecord | undefined;
  /** Why the stored versions could not be used (the local file runs instead). */
  storeProblem?: string;
}

/** The store directory for a local site file: `config` next to the default journal ($STATE_DIRECTORY/config). */
export function versionStoreDir(localFile: string, env: NodeJS.ProcessEnv): string {
  return path.join(path.dirname(defaultBufferPath({ dir: path.dirname(path.resolve(localFile)), env })), 'config');
}

export class SiteVersions {
  private storeInstance: VersionStore | undefined;
  private readonly validator: SiteValidator;

  constructor(private readonly options: SiteVersionsOptions) {
    this.validator = new SiteValidator(options.drivers);
  }

  /** The store, once remote configuration was seen on (undefined before). */
  get store(): VersionStore | undefined {
    return this.storeInstance;
  }

  /** Validates site text as the local file (throws ConfigError). */
  validate(text: string): ResolvedSite {
    return this.validator.validate(text.replace(/^\uFEFF/, ''), this.options.localFile, this.options.env);
  }

  /** At start: the local file, or the active stored version (see the top of this file). Throws ConfigError. */
  start(): StartChoice {
    const local = this.readLocal();
    if (!local.site.remoteConfig) return { site: local.site, entry: undefined, trial: undefined };
    try {
      const store = this.openStore();
      const active = store.active;
      if (store.state.localSha !== local.sha || !active) return { site: local.site, entry: this.recordLocal(local.text, local.sha), trial: undefined };
      const site = this.validate(store.text(active));
      const trial = store.state.trial?.id === active.id ? store.countStart(local.site.remoteConfig.trialMs) : undefined;
      return { site, entry: active, trial };
    } catch (err) {
      // A store that cannot be used must not keep the gateway from running: the local file runs.
      if (!(err instanceof VersionStoreError) && !(err instanceof ConfigError)) throw err;
      const entry = this.storeInstance && err instanceof ConfigError ? this.recordLocal(local.text, local.sha) : undefined;
      return { site: local.site, entry, trial: undefined, storeProblem: err.message };
    }
  }

  /** On SIGHUP: a changed local file is recorded and returned; otherwise the active version (a `config rollback` made by hand). */
  reload(): { site: ResolvedSite; entry: VersionEntry | undefined; local: boolean; storeProblem?: string } {
    const local = this.readLocal();
    try {
      this.storeInstance?.refresh();
      const store = local.site.remoteConfig ? this.openStore() : this.storeInstance;
      const active = store?.active;
      if (!store || store.state.localSha !== local.sha || !active) {
        return { site: local.site, entry: store ? this.recordLocal(local.text, local.sha) : undefined, local: true };
      }
      return { site: this.validate(store.text(active)), entry: active, local: false };
    } catch (err) {
      // As at start: a store that cannot be used does not block a local edit.
      if (!(err instanceof VersionStoreError)) throw err;
      return { site: local.site, entry: undefined, local: true, storeProblem: err.message };
    }
  }

  private recordLocal(text: string, sha: string): VersionEntry {
    const store = this.storeInstance!;
    return store.record({ version: `local-${store.state.nextId}`, source: 'local', state: 'applied', text, localSha: sha });
  }

  private readLocal(): { site: ResolvedSite; text: string; sha: string } {
    let text: string;
    try {
      text = readBoundedFile(this.options.localFile, SITE_FILE_MAX_BYTES).toString('utf8');
    } catch (err) {
      // loadSite turns a missing or unreadable file into the ConfigError the CLI reports.
      if (err instanceof FileReadError) loadSite(this.options.localFile, this.options.env, this.options.drivers);
      throw err;
    }
    // Validated from the same bytes that are hashed and stored.
    return { site: this.validate(text), text, sha: sha256(text) };
  }

  private openStore(): VersionStore {
    this.storeInstance ??= VersionStore.open(this.options.storeDir ?? versionStoreDir(this.options.localFile, this.options.env), this.options.clock);
    return this.storeInstance;
  }
}
