// Opening a journal file, whatever state it is in: a full disk (give up the reserve, or keep the
// WAL index in memory), a corrupt file (move it aside and start a new one), a missing, emptied or
// replaced file (start or adopt it, continuing seq above the lease of the journal that was lost),
// a journal that was open when the machine went down (continue seq above its own lease: its last
// seqs may have been rolled back after they were published; boot-marker.ts).
// Returns the open store and what was found; the caller makes that its state. Throws when the
// journal cannot be opened at all.
import fs from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Clock } from '../driver-api/index.js';
import { errorText } from '../util/errors.js';
import type { ResetReason, WhenFull } from './journal.js';
import { type Identity, SqliteStore } from './sqlite-store.js';
import type { Counters } from './journal-counters.js';
import { type OpenSettings, isCorrupt, isSpaceOrIo, openDatabase } from './journal-database.js';
import type { DiskBudget } from './disk-budget.js';
import { LEASE_SIZE, type LeaseRecord, type SeqLease, leasePathFor } from './seq-lease.js';
import { fileSizeOrUndefined, formatJournalId, moveAside, newJournalId } from './journal-files.js';
import { syncJournalFilesNow } from './storage-sync.js';

/** What open() found: the journal's identity and, if an earlier journal was lost, what happened. */
export interface JournalOpening {
  journalId: string;
  createdAt: number;
  /** First seq this journal will hand out at this start. */
  nextSeq: number;
  reset?: { reason: ResetReason; previousJournalId?: string; previousCeiling?: number; movedTo?: string };
}

export interface OpenerContext {
  file: string;
  settings: Omit<OpenSettings, 'walPages' | 'locking'>;
  limits: { maxMessages: number; whenFull: WhenFull; keepDelivered: boolean };
  budget: DiskBudget;
  lease: SeqLease;
  logger: Logger;
  clock: Clock;
  /** bootKey() of this boot when this process owns the journal (the gateway): marks it open. */
  openBoot?: number;
}

export interface OpenedJournal {
  store: SqliteStore;
  counters: Counters;
  identity: Identity;
  opening: JournalOpening;
  /** The file is marked open in this boot (a later boot will see if the machine went down with it). */
  markedOpen: boolean;
}

/**
 * Opens `ctx.file`. `floorSeq`: no seq at or below it may be handed out (the last seq of a
 * journal that just turned out corrupt at run time).
 */
export function openJournal(ctx: OpenerContext, floorSeq = 0, reasonIfNew?: ResetReason, movedTo?: string): OpenedJournal {
  const { file, logger } = ctx;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  ctx.budget.open();
  const leaseRead = ctx.lease.read();
  if (leaseRead.state === 'unreadable') {
    logger.warn({ file: leasePathFor(file), reason: leaseRead.reason }, 'seq lease unreadable; it is rewritten from the journal');
  }
  const existed = (fileSizeOrUndefined(file) ?? 0) > 0;
  let db: BetterSqlite3.Database | undefined;
  let store: SqliteStore;
  let c: Counters;
  try {
    db = connect(ctx);
    store = new SqliteStore(db, ctx.limits);
    c = store.load();
  } catch (err) {
    db?.close();
    if (!isCorrupt(err) || movedTo !== undefined) throw err;
    const aside = moveAside(file, ctx.clock.now());
    logger.error(
      { path: file, movedTo: aside, err: errorText(err) },
      `journal is corrupt; moved aside (\`fieldgate buffer export --path ${aside}\` recovers what is readable) and a new journal started`,
    );
    return openJournal(ctx, floorSeq, 'corrupt', aside);
  }
  try {
    let id = store.identity();
    const fresh = id === undefined && c.lastSeq === 0 && c.depth === 0;
    if (!id) {
      id = { journalId: newJournalId(), createdAt: ctx.clock.now() };
      store.setIdentity(id);
    }
    const lease = leaseRead.state === 'ok' ? leaseRead.record : undefined;
    const idText = formatJournalId(id.journalId);
    let reason = fresh ? reasonIfNew : undefined;
    const foreignLease = lease !== undefined && lease.journalId !== idText;
    if (foreignLease) reason ??= fresh ? 'missing' : 'replaced';
    const marked = ctx.openBoot === undefined ? 0 : store.openBoot();
    const wentDown = ctx.openBoot !== undefined && !fresh && isOpenInOtherBoot(marked, ctx.openBoot);
    if (wentDown) reason ??= 'power_loss';
    // Without a lease (it could not be written: a full disk) no more than a lease's worth of seqs
    // can have been handed out since the journal's last durable one.
    const above = foreignLease ? lease.ceiling : wentDown ? lease?.ceiling ?? c.lastSeq + LEASE_SIZE : 0;
    c = store.raiseSeq(Math.max(floorSeq, above), c);
    const markedOpen = ctx.openBoot !== undefined && (marked === ctx.openBoot || markOpen(ctx, store, ctx.openBoot));
    const opening: JournalOpening = {
      journalId: idText, createdAt: id.createdAt, nextSeq: c.lastSeq + 1,
      ...(reason ? { reset: { reason, previousJournalId: lease?.journalId, previousCeiling: lease?.ceiling, movedTo } } : {}),
    };
    if (reason) reportReset(ctx, reason, opening, lease, existed);
    return { store, counters: c, identity: id, opening, markedOpen };
  } catch (err) {
    db.close();
    throw err;
  }
}

function connect(ctx: OpenerContext): BetterSqlite3.Database {
  const { file, budget, logger } = ctx;
  const settings: OpenSettings = { ...ctx.settings, walPages: budget.walPages(4096) };
  try {
    return openDatabase(file, settings);
  } catch (err) {
    if (!isSpaceOrIo(err)) throw err;
    if (budget.releaseReserve()) {
      logger.warn({ path: file, err: errorText(err) }, 'disk full at open: gave up the journal\'s disk reserve');
      try {
        return openDatabase(file, settings);
      } catch (again) {
        if (!isSpaceOrIo(again)) throw again;
      }
    }
    // No room for the shared WAL index: keep it in this process's memory instead.
    const db = openDatabase(file, { ...settings, locking: 'exclusive' });
    logger.warn(
      { path: file },
      'journal opened on a full disk with its WAL index in memory; `fieldgate buffer` commands cannot read it until the gateway restarts with free space',
    );
    return db;
  }
}

// Durable before any seq is handed out, or a cut right after would go unnoticed. A disk too full
// even for this leaves the journal usable, only without the detection until a later start.
function markOpen(ctx: OpenerContext, store: SqliteStore, boot: number): boolean {
  try {
    store.setOpenBoot(boot);
    syncJournalFilesNow(ctx.file);
    return true;
  } catch (err) {
    ctx.logger.warn({ path: ctx.file, err: errorText(err) }, 'cannot mark the journal open in this boot (disk full?): a power cut in this run would go unnoticed');
    return false;
  }
}

function isOpenInOtherBoot(marked: number, thisBoot: number): boolean {
  return marked !== 0 && marked !== thisBoot;
}

function reportReset(ctx: OpenerContext, reason: ResetReason, opening: JournalOpening, lease: LeaseRecord | undefined, existed: boolean): void {
  const what = {
    missing: existed ? 'the journal file was empty' : 'the journal file was missing',
    replaced: 'the journal file was replaced by another journal',
    corrupt: 'the journal file was corrupt',
    power_loss: 'the machine went down (power cut, hard reset or system crash) while the journal was open',
  }[reason];
  ctx.logger.error(
    {
      path: ctx.file, reason, previousJournal: lease?.journalId, previousSeqCeiling: lease?.ceiling,
      journal: opening.journalId, nextSeq: opening.nextSeq,
    },
    reason === 'power_loss'
      ? `${what}: readings committed in its last moments (at most buffer.sync_interval) may be lost; seq continues above every seq handed out before`
      : `${what}: whatever the previous journal had not delivered is lost; the new journal continues above every seq handed out before`,
  );
}
