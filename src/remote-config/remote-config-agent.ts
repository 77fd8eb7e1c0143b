// Remote configuration at run time: candidates from the broker are checked (size, signature,
// version, the site-file validator), recorded, applied through the reload path, tried, and either
// confirmed or rolled back to the last good version; every outcome is reported, retained, on
// `<remote_config.topic>/status` (again on each connection, so the cloud always sees the latest).
//
// One candidate at a time: one that arrives during a trial waits for the trial to end (only the
// newest waiting one is kept). A retained candidate is delivered again on every connection; the
// one already handled is recognised by its bytes and ignored.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import { ConfigError } from '../config/config-error.js';
import type { ResolvedSite } from '../config/resolved-site.js';
import type { Uplink } from '../uplink/uplink.js';
import { errorText } from '../util/errors.js';
import { boundedText } from '../util/quote-value.js';
import { CandidateRefused, compareVersions, parseCandidate, verifySignature, type SignedConfig } from './signed-config.js';
import { MAX_TRIAL_STARTS, type SiteVersions } from './site-versions.js';
import { judgeTrial, requiredDevices, type DeviceObservation } from './trial.js';
import type { TrialRecord, VersionEntry, VersionState } from './version-store.js';

/** Errors listed in one status message; the rest are counted. */
const MAX_STATUS_ERRORS = 100;
const MAX_REASON_CHARS = 500;

export interface StatusReport {
  state: VersionState | 'rejected';
  /** The version the report is about (absent when a message had none). */
  version?: string;
  /** The version in force after this event. */
  active?: string;
  previous?: string;
  source?: string;
  reason?: string;
  errors?: string[];
  at: string;
  until?: string;
}

/** What the agent needs of the gateway: observations and the reload path. */
export interface AgentHost {
  readonly isConnected: boolean;
  readonly resolvedSite: ResolvedSite;
  devicesObserved(): DeviceObservation[];
  /** Applies a validated site through the reload path (the caller serialises reloads). */
  apply(site: ResolvedSite): Promise<void>;
  /** Runs `task` after every reload queued before it. */
  serialize(task: () => Promise<void>): Promise<void>;
  /** The active version changed: birth message, metrics. */
  versionChanged(version: string, state: string): void;
}

export interface RemoteConfigAgentOptions {
  versions: SiteVersions;
  host: AgentHost;
  logger: Logger;
  clock: Clock;
  /** Secrets of a candidate are learnt by the log redactor before anything about it is logged. */
  learnSecrets: (secrets: readonly string[]) => void;
  /** How often a trial is judged; default 250 ms. */
  checkEveryMs?: number;
}

export class RemoteConfigAgent {
  private uplink: Uplink | undefined;
  private last: StatusReport | undefined;
  private trialTimer: NodeJS.Timeout | undefined;
  private waiting: Buffer | undefined;
  private readonly handled = new Set<string>();
  private stopped = false;

  constructor(private readonly options: RemoteConfigAgentOptions) {}

  /** The version in force and its state, when remote configuration is on. */
  get active(): { version: string; state: VersionState } | undefined {
    const entry = this.options.versions.store?.active;
    return entry ? { version: entry.version, state: entry.state } : undefined;
  }

  get lastReport(): StatusReport | undefined {
    return this.last;
  }

  /** After the gateway started: announces the version in force and resumes a trial left unfinished. */
  start(entry: VersionEntry | undefined, trial: TrialRecord | undefined): void {
    if (entry) this.report({ state: entry.state, version: entry.version, active: entry.version, source: entry.source });
    if (trial) {
      const trialMs = this.options.host.resolvedSite.remoteConfig?.trialMs ?? 0;
      if (trial.starts > MAX_TRIAL_STARTS) {
        void this.options.host.serialize(() => this.rollBack(trial, `the gateway started ${trial.starts} times during the trial`));
      } else {
        this.options.logger.warn({ version: entry?.version, starts: trial.starts, trialMs }, 'resuming the trial of a remote configuration after a restart');
        this.watch(trial);
      }
    }
  }

  /** Called with every uplink the gateway builds: subscribes when remote configuration is on. */
  attach(uplink: Uplink): void {
    this.uplink = uplink;
    const remote = this.options.host.resolvedSite.remoteConfig;
    uplink.on('connect', () => this.publishLast());
    if (!remote) return;
    uplink.subscribe(remote.topic, 1, (_topic, payload) => {
      void this.options.host.serialize(() => this.receive(payload));
    });
  }

  /**
   * After a SIGHUP applied `entry`: a local edit, or a version made active by hand (`fieldgate
   * config rollback`), ends a trial in progress; re-applying the version on trial changes nothing.
   */
  reloaded(entry: VersionEntry | undefined): void {
    if (this.options.versions.store?.state.trial) return;
    this.stopWatching();
    if (entry && entry.version !== this.last?.active) this.report({ state: entry.state, version: entry.version, active: entry.version, source: entry.source });
  }

  stop(): void {
    this.stopped = true;
    this.stopWatching();
  }

  /** Handles one candidate message; resolves once it is refused, applied (its trial started) or queued. */
  async receive(payload: Buffer): Promise<void> {
    const remote = this.options.host.resolvedSite.remoteConfig;
    const store = this.options.versions.store;
    if (!remote || !store || this.stopped) return;
    const digest = createHash('sha256').update(payload).digest('hex');
    if (this.handled.has(digest)) {
      this.options.logger.debug('remote configuration message already handled; ignored');
      return;
    }
    this.remember(digest);
    let candidate: SignedConfig | undefined;
    try {
      candidate = parseCandidate(payload, remote.maxBytes);
      if (!verifySignature(candidate, remote.publicKey)) throw new CandidateRefused('bad_signature', `the signature does not verify with ${remote.publicKeyFile}`);
      if (store.state.trial) {
        // Only a signed candidate may wait: anyone able to publish must not displace it.
        this.waiting = payload;
        this.handled.delete(digest);
        this.options.logger.info({ version: candidate.version }, 'remote configuration received during a trial; it is looked at when the trial ends');
        return;
      }
      const highest = store.state.highestSigned;
      if (highest !== undefined && compareVersions(candidate.version, highest) <= 0) {
        if (candidate.version === highest) {
          this.options.logger.debug({ version: candidate.version }, 'remote configuration version already tried; ignored');
          return;
        }
        throw new CandidateRefused('not_newer', `version ${candidate.version} is not newer than ${highest}, the newest version this gateway has tried`);
      }
      const site = this.validate(candidate);
      await this.applyCandidate(candidate, site);
    } catch (err) {
      if (!(err instanceof CandidateRefused)) throw err;
      this.refuse(candidate?.version, err);
    }
  }

  private validate(candidate: SignedConfig): ResolvedSite {
    let site: ResolvedSite;
    try {
      site = this.options.versions.validate(candidate.site);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.options.learnSecrets(err.secrets);
      const errors = err.issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
      throw new CandidateRefused('invalid', `the site file has ${errors.length} ${errors.length === 1 ? 'error' : 'errors'}`, errors);
    }
    this.options.learnSecrets(site.secrets);
    // Turning remote configuration off from afar would leave the next fix no way in.
    if (!site.remoteConfig) throw new CandidateRefused('disables_remote_config', 'the site file has no remote_config; only a local edit can turn remote configuration off');
    return site;
  }

  private async applyCandidate(candidate: SignedConfig, site: ResolvedSite): Promise<void> {
    const store = this.options.versions.store!;
    const previous = store.active;
    const trialMs = site.remoteConfig!.trialMs;
    const required = requiredDevices(this.options.host.devicesObserved(), site.devices.map((d) => d.name), this.options.clock.now(), trialMs);
    // Recorded before it is applied: a power cut in between comes back on it, with its trial.
    const entry = store.record({ version: candidate.version, source: 'remote', state: 'trial', text: candidate.site, trialMs, required });
    const trial = store.state.trial!;
    this.options.logger.info({ version: candidate.version, previous: previous?.version, required, trialMs }, 'applying a remote configuration');
    try {
      await this.options.host.apply(site);
    } catch (err) {
      await this.rollBack(trial, `applying it failed: ${errorText(err)}`);
      return;
    }
    this.report({
      state: 'trial', version: entry.version, active: entry.version, previous: previous?.version, source: 'remote',
      until: new Date(trial.untilAt).toISOString(),
    });
    this.watch(trial);
  }

  private watch(trial: TrialRecord): void {
    this.stopWatching();
    const check = () => {
      if (this.options.versions.store?.state.trial?.id !== trial.id) {
        this.stopWatching();
        return;
      }
      const verdict = judgeTrial(trial, this.options.clock.now(), {
        connected: this.options.host.isConnected,
        devices: this.options.host.devicesObserved(),
      });
      if (verdict.kind === 'pending') return;
      this.stopWatching();
      void this.options.host.serialize(async () => {
        // A local edit may have ended the trial while this waited its turn.
        if (this.options.versions.store?.state.trial?.id !== trial.id) return;
        if (verdict.kind === 'confirmed') this.confirm(trial);
        else await this.rollBack(trial, verdict.reason);
        await this.takeWaiting();
      });
    };
    this.trialTimer = setInterval(check, this.options.checkEveryMs ?? 250);
    check();
  }

  private confirm(trial: TrialRecord): void {
    const store = this.options.versions.store!;
    store.confirm(trial.id);
    const entry = store.byId(trial.id)!;
    this.options.logger.info({ version: entry.version }, 'remote configuration confirmed');
    this.report({ state: 'confirmed', version: entry.version, active: entry.version, previous: store.byId(trial.previous)?.version, source: 'remote' });
  }

  private async rollBack(trial: TrialRecord, reason: string): Promise<void> {
    const store = this.options.versions.store!;
    const failed = store.byId(trial.id);
    const back = store.byId(trial.previous);
    this.stopWatching();
    if (!back) {
      this.options.logger.error({ version: failed?.version, reason }, 'remote configuration failed its trial but no earlier version is stored; keeping it');
      store.confirm(trial.id);
      return;
    }
    const shown = boundedText(reason, MAX_REASON_CHARS);
    this.options.logger.error({ version: failed?.version, back: back.version, reason: shown }, 'remote configuration failed its trial; rolling back');
    store.rollBack(trial.id, back.id, shown);
    try {
      const site = this.options.versions.validate(store.text(back));
      this.options.learnSecrets(site.secrets);
      await this.options.host.apply(site);
    } catch (err) {
      if (err instanceof ConfigError) this.options.learnSecrets(err.secrets);
      this.options.logger.error({ version: back.version, err: errorText(err) }, 'the last good version cannot be applied again; it takes effect at the next start');
    }
    this.report({ state: 'rolled_back', version: failed?.version, active: back.version, source: 'remote', reason: shown });
  }

  private async takeWaiting(): Promise<void> {
    const next = this.waiting;
    this.waiting = undefined;
    if (next) await this.receive(next);
  }

  private refuse(version: string | undefined, err: CandidateRefused): void {
    const errors = err.errors.slice(0, MAX_STATUS_ERRORS);
    if (err.errors.length > errors.length) errors.push(`… and ${err.errors.length - errors.length} more`);
    this.options.logger.warn({ version, reason: err.reason, err: err.message, errors: errors.slice(0, 10) }, 'remote configuration refused');
    this.report({
      state: 'rejected', ...(version === undefined ? {} : { version }), active: this.active?.version,
      reason: `${err.reason}: ${boundedText(err.message, MAX_REASON_CHARS)}`, ...(errors.length > 0 ? { errors } : {}),
    });
  }

  private report(fields: Omit<StatusReport, 'at'>): void {
    this.last = { ...fields, at: new Date(this.options.clock.now()).toISOString() };
    const active = this.active;
    if (active) this.options.host.versionChanged(active.version, active.state);
    this.publishLast();
  }

  private publishLast(): void {
    const uplink = this.uplink;
    const remote = this.options.host.resolvedSite.remoteConfig;
    const report = this.last;
    if (!uplink?.connected || !remote || !report) return;
    uplink.publish({ topic: remote.statusTopic, payload: Buffer.from(JSON.stringify(report)), qos: 1, retain: true }, (err) => {
      if (err) this.options.logger.warn({ err: errorText(err) }, 'remote configuration status not acknowledged; sent again on the next connection');
    });
  }

  private remember(digest: string): void {
    this.handled.add(digest);
    // Bounded: only recent messages come back (retained ones, on reconnect).
    if (this.handled.size > 32) this.handled.delete(this.handled.values().next().value!);
  }

  private stopWatching(): void {
    if (this.trialTimer) clearInterval(this.trialTimer);
    this.trialTimer = undefined;
  }
}
