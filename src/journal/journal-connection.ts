// JournalConnection: SqliteJournal's open journal file and the in-memory state that mirrors it
// (counters, data_version, identity), and whatever makes or remakes that state: the first open,
// retries while the journal cannot be opened (readings are refused and counted meanwhile), a
// reload after another process wrote the file, a corrupt page met at run time (the file is moved
// aside and a new journal continues the seq), and the seq lease that keeps seq from going back.
// Opening a file in whatever state it is in is journal-opener.ts; going on in memory when the
// file's storage fails under a running gateway is memory-fallback.ts; the journal's design rules
// are at the top of sqlite-journal.ts.
import { FieldgateError, errorText } from '../util/errors.js';
import type { AppendResult, ResetReason } from './journal.js';
import type { Identity, Plan, SqliteStore } from './sqlite-store.js';
import { type Counters, addDrops, emptyCountersAt, withCounts } from './journal-counters.js';
import { errorCode, isStorageFailure } from './journal-database.js';
import type { DiskBudget } from './disk-budget.js';
import type { DropReporter } from './drop-reporter.js';
import type { JournalHousekeeping } from './journal-housekeeping.js';
import type { RecentRows } from './recent-rows.js';
import { SeqLease, leasePathFor } from './seq-lease.js';
import { formatJournalId, moveAside } from './journal-files.js';
import { type JournalOpening, openJournal } from './journal-opener.js';
import type { SqliteJournalOptions } from './sqlite-journal.js';
import { bootKey } from './boot-marker.js';
import { syncJournalFilesNow } from './storage-sync.js';
import { moveToMemory } from './memory-fallback.js';
import { clearMemorySeqs, readMemorySeqs, recordMemorySeqs } from './memory-marker.js';

const RETRY_OPEN_MS = 5_000;

type State = 'closed' | 'open' | 'unavailable' | 'memory';

/** The journal went on in memory: since when, and the limits it keeps there. */
export interface InMemory {
  since: number;
  /** The seq lease's ceiling on disk: no seq above it can be handed out until the storage works. */
  seqCap: number;
  maxBytes: number;
}

/** Made by SqliteJournal and used by both. */
export interface JournalConnectionParts {
  budget: DiskBudget;
  recent: RecentRows;
  reporter: DropReporter;
  housekeeping: JournalHousekeeping;
}

export class JournalConnection {
  state: State = 'closed';
  /**
   * The journal's counters as of the last successful COMMIT (or load). Transactions are given
   * them and return what they become, which SqliteJournal then makes these.
   */
  c: Counters = emptyCountersAt(0);
  // PRAGMA data_version as last seen: it moves only when another connection commits.
  dataVersion = 0;
  readonly resets: Record<ResetReason, number> = { missing: 0, replaced: 0, corrupt: 0, power_loss: 0 };
  private store: SqliteStore | undefined;
  private readonly recent: RecentRows;
  private readonly reporter: DropReporter;
  private readonly budget: DiskBudget;
  private readonly housekeeping: JournalHousekeeping;
  private readonly lease: SeqLease;
  private identity: Identity | undefined;
  private identityText: { id: Identity; text: string } | undefined;
  private opening: JournalOpening | undefined;
  private unavailable: { reason: string; lastTry: number } | undefined;
  /** Readings refused while unavailable, recorded in the journal once it opens. */
  private unsavedRefusals = 0;
  private leaseFailing = false;
  private recovering = false;
  /** Set while the journal is in memory (state 'memory'). */
  memory: InMemory | undefined;
  // The file is marked open in this boot: only then can a later boot tell that seqs handed out
  // in memory never reached it (boot-marker.ts), so only then may the journal go on in memory.
  private markedOpen = false;

  constructor(private readonly options: SqliteJournalOptions, parts: JournalConnectionParts) {
    this.recent = parts.recent;
    this.reporter = parts.reporter;
    this.budget = parts.budget;
    this.housekeeping = parts.housekeeping;
    this.lease = new SeqLease(leasePathFor(options.path));
  }

  /** Identity and reset report of the last successful open. */
  get opened(): JournalOpening | undefined {
    return this.opening;
  }

  /** The journal's id as consumers see it; '' before the first open. */
  get journalId(): string {
    return this.identity ? formatJournalId(this.identity.journalId) : '';
  }

  /** Why the journal cannot be used right now. */
  get unavailableReason(): string {
    return this.unavailable?.reason ?? 'closed';
  }

  open(): void {
    if (this.state === 'open' || this.state === 'memory') return;
    const { maxMessages, maxBytes } = this.options;
    if (!(Number.isInteger(maxMessages) && maxMessages >= 1) || !(maxBytes >= 1)) {
      throw new FieldgateError('journal_config', 'journal capacity must be at least 1 message and 1 byte');
    }
    try {
      this.attach();
    } catch (err) {
      const failure = openError(this.options.path, err);
      if (this.options.onOpenFailure !== 'retry') throw failure;
      this.state = 'unavailable';
      this.unavailable = { reason: failure.message, lastTry: this.options.clock.now() };
      this.options.logger.error(
        { err: failure.message, path: this.options.path },
        `journal cannot be opened; readings are refused and counted until it can (retrying every ${RETRY_OPEN_MS / 1000} s)`,
      );
    }
  }

  close(): void {
    const store = this.store;
    const memory = this.memory;
    this.state = 'closed';
    this.unavailable = undefined;
    this.memory = undefined;
    this.recent.clear();
    this.reporter.flush(true);
    if (!store) return;
    if (memory) {
      // Nothing can be written to the failed file: what memory holds goes with it.
      this.store = undefined;
      if (this.c.depth > 0) {
        this.options.logger.error(
          { undelivered: this.c.depth, lastSeq: this.c.lastSeq, storageFailedAt: new Date(memory.since).toISOString() },
          'journal closed while in memory (its storage had failed): its undelivered readings are lost',
        );
      }
      store.db.close();
      return;
    }
    if (this.c.dropsDirty) {
      try {
        store.saveDrops(this.c.drops);
      } catch (err) {
        this.options.logger.warn({ err }, 'journal could not record drop counters on close');
      }
    }
    this.store = undefined;
    if (this.options.bootId !== undefined) this.markClosed(store);
    store.db.close();
  }

  // A clean close: the next boot must not take this journal for one the machine went down with.
  private markClosed(store: SqliteStore): void {
    try {
      store.setOpenBoot(0);
      syncJournalFilesNow(this.options.path);
    } catch (err) {
      this.options.logger.warn({ err: errorText(err) }, 'journal could not be marked closed; the next boot will report a power_loss reset');
    }
  }

  /**
   * The open store, reopening an unavailable journal when its retry is due; undefined if none.
   * `in_transaction`: the caller checks for other writers inside its own transaction instead.
   */
  usable(foreignWrites: 'check' | 'in_transaction' = 'check'): SqliteStore | undefined {
    if (this.state === 'closed') throw new FieldgateError('journal_closed', 'journal is not open');
    if (this.state === 'unavailable') this.retryOpen();
    const store = this.store;
    if (!store) return undefined;
    // Another process (`fieldgate buffer purge` next to a running gateway) wrote the file: the
    // in-memory counters are stale, so reload them rather than trust them.
    if (foreignWrites === 'check' && store.dataVersion() !== this.dataVersion) this.reload(store);
    return store;
  }

  /** An append while no journal could be opened: every entry is refused and counted. */
  refuseAll(n: number): AppendResult {
    this.unsavedRefusals += n;
    this.c = withCounts(this.c, { drops: addDrops(this.c.drops, { drop_newest: n }) });
    this.reporter.note('drop_newest', n, `journal unavailable: ${this.unavailableReason}`);
    return { stored: [], refused: n, evicted: 0 };
  }

  /**
   * The journal's storage failed under it (a card gone read-only, I/O errors): goes on in memory
   * (memory-fallback.ts) when buffer.memory_fallback allows and the error is of that kind.
   */
  toMemory(err: unknown): boolean {
    const o = this.options;
    const allowed = Math.min(o.memoryFallbackBytes ?? 0, o.maxBytes);
    if (this.state !== 'open' || allowed <= 0 || !this.markedOpen || !isStorageFailure(err)) return false;
    const old = this.store;
    const before = this.c;
    const moved = moveToMemory(old, before, this.identity, { maxMessages: o.maxMessages, maxBytes: allowed, whenFull: o.whenFull });
    try {
      old?.db.close();
    } catch {
      // The storage is failing; the connection is gone either way.
    }
    this.store = moved.store;
    this.state = 'memory';
    this.recent.clear();
    this.c = moved.counters;
    this.dataVersion = moved.store.dataVersion();
    this.housekeeping.restart();
    const seqCap = Math.max(this.lease.ceiling, before.lastSeq);
    this.memory = { since: o.clock.now(), seqCap, maxBytes: allowed };
    this.recordMemorySeqs(seqCap);
    o.logger.error(
      {
        path: o.path, err: errorText(err), backlogCopied: moved.copied, backlogLeftInFile: moved.left, readError: moved.readError,
        memoryBytes: allowed, seqsLeft: seqCap - before.lastSeq,
      },
      'journal storage failed (card worn out or gone read-only, disk removed?): the journal goes on in memory, readings are still '
        + 'published, and what memory holds is lost if the gateway stops before the storage is repaired',
    );
    return true;
  }

  // For a later run in this boot that finds the file repaired (memory-marker.ts).
  private recordMemorySeqs(ceiling: number): void {
    const dir = this.options.runtimeDir;
    let failure = dir === undefined ? 'no runtime directory (RuntimeDirectory= under systemd)' : undefined;
    if (dir !== undefined) {
      try {
        recordMemorySeqs(dir, this.journalId, ceiling);
      } catch (err) {
        failure = errorText(err);
      }
    }
    if (failure !== undefined) {
      this.options.logger.warn(
        { err: failure },
        'cannot record the seqs handed out in memory: if the storage is repaired without a reboot, the next run may hand some of them out again',
      );
    }
  }

  /** Extends the seq lease before a seq above it is handed out. */
  coverSeqs(plan: Plan): void {
    if (this.memory) return;
    const last = plan.accepted.at(-1);
    if (last) this.coverSeq(last.seq);
  }

  /** A corrupt page met at run time: move the file aside and continue in a new journal. */
  recoverCorrupt(err: unknown): boolean {
    if (this.recovering) return false;
    this.recovering = true;
    const lastSeq = this.c.lastSeq;
    try {
      this.store?.db.close();
      this.store = undefined;
      this.recent.clear();
      const aside = moveAside(this.options.path, this.options.clock.now());
      this.options.logger.error({ path: this.options.path, movedTo: aside, err: errorText(err) }, 'journal turned out corrupt; moved aside');
      this.c = withCounts(emptyCountersAt(lastSeq), { persistedSeq: 0, drops: this.c.drops });
      this.attach(lastSeq, 'corrupt', aside);
      return true;
    } catch (again) {
      this.state = 'unavailable';
      this.unavailable = { reason: errorText(again), lastTry: this.options.clock.now() };
      return false;
    } finally {
      this.recovering = false;
    }
  }

  /** Reads the counters from the file again: another process wrote it. */
  reload(store: SqliteStore): void {
    this.recent.clear();
    const drops = this.c.dropsDirty ? this.c.drops : undefined;
    this.c = store.load();
    if (drops) this.c = withCounts(this.c, { drops, dropsDirty: true });
    this.dataVersion = store.dataVersion();
    this.housekeeping.restart();
  }

  private retryOpen(): void {
    const u = this.unavailable;
    const now = this.options.clock.now();
    if (!u || now - u.lastTry < RETRY_OPEN_MS) return;
    u.lastTry = now;
    try {
      this.attach();
      this.options.logger.warn({ path: this.options.path, refused: this.unsavedRefusals }, 'journal is available again');
    } catch (err) {
      u.reason = openError(this.options.path, err).message;
    }
  }

  /** Opens the file (see journal-opener.ts) and makes what was found this journal's state. */
  private attach(floorSeq = 0, reasonIfNew?: ResetReason, movedTo?: string): void {
    const o = this.options;
    const opened = openJournal({
      file: o.path, settings: { synchronous: o.synchronous, maxPageCount: o.maxPageCount },
      limits: { maxMessages: o.maxMessages, whenFull: o.whenFull, keepDelivered: (o.keepDeliveredMs ?? 0) > 0 }, budget: this.budget, lease: this.lease,
      logger: o.logger, clock: o.clock, ...(o.bootId === undefined ? {} : { openBoot: bootKey(o.bootId) }),
    }, Math.max(floorSeq, this.c.lastSeq), reasonIfNew, movedTo);
    let c = opened.counters;
    try {
      c = this.aboveMemorySeqs(opened.store, opened.opening, c);
    } catch (err) {
      opened.store.db.close();
      throw err;
    }
    if (this.unsavedRefusals > 0) {
      c = withCounts(c, { drops: addDrops(c.drops, { drop_newest: this.unsavedRefusals }), dropsDirty: true });
      this.unsavedRefusals = 0;
    }
    this.store = opened.store;
    this.recent.clear();
    this.state = 'open';
    this.unavailable = undefined;
    this.c = c;
    this.dataVersion = opened.store.dataVersion();
    this.housekeeping.restart();
    this.identity = opened.identity;
    this.opening = opened.opening;
    this.markedOpen = opened.markedOpen;
    const reason = opened.opening.reset?.reason;
    if (reason) this.resets[reason] += 1;
    this.coverSeq(c.lastSeq + 1);
    o.logger.info({ path: o.path, journal: opened.opening.journalId, depth: c.depth, lastSeq: c.lastSeq }, 'journal opened');
    if (this.housekeeping.keepsDelivered && !opened.store.keepsDelivered) {
      o.logger.warn({ path: o.path }, 'the journal file cannot take the delivered_at column yet (disk full?): delivered rows are deleted, not kept, until a later start');
    }
    this.c = this.housekeeping.expire(opened.store, this.c, true);
    o.onOpen?.(opened.opening);
  }

  /** A run in memory earlier in this boot may have handed out seqs the file never saw. */
  private aboveMemorySeqs(store: SqliteStore, opening: JournalOpening, c: Counters): Counters {
    const dir = this.options.runtimeDir;
    if (dir === undefined) return c;
    const ceiling = readMemorySeqs(dir, opening.journalId);
    if (ceiling === undefined) return c;
    let raised = c;
    if (ceiling > c.lastSeq) {
      raised = store.raiseSeq(ceiling, c);
      opening.nextSeq = raised.lastSeq + 1;
      this.options.logger.error(
        { path: this.options.path, lastSeqInFile: c.lastSeq, nextSeq: opening.nextSeq },
        'an earlier run in this boot held the journal in memory after its storage failed; what it had not delivered when it stopped is lost, and seq continues above what it may have handed out',
      );
    }
    clearMemorySeqs(dir, opening.journalId);
    return raised;
  }

  private coverSeq(seq: number): void {
    const id = this.identity;
    if (!id) return;
    // Formatted once per identity: this runs at every append.
    if (this.identityText?.id !== id) this.identityText = { id, text: formatJournalId(id.journalId) };
    const ok = this.lease.cover(this.identityText.text, seq);
    if (ok === !this.leaseFailing) return;
    this.leaseFailing = !ok;
    if (ok) this.options.logger.info('seq lease written again');
    else this.options.logger.warn({ file: leasePathFor(this.options.path) }, 'cannot write the seq lease (disk full?); seq stays safe unless the journal file is lost too');
  }
}

function openError(file: string, err: unknown): FieldgateError {
  if (err instanceof FieldgateError) return err;
  const code = errorCode(err);
  return new FieldgateError('journal_open', `cannot open journal ${file}: ${errorText(err)}${code ? ` (${code})` : ''}`, {
    kind: 'retryable', cause: err,
  });
}
