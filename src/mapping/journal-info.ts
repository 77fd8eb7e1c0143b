// The journal announcement: a retained message on `<status topic>/journal`, published right
// after the online status on every connection and again when a journal is replaced at run time.
// It names the journal the seqs come from, so a consumer can tell a journal that was lost (seq
// continues, rows it had not delivered are gone) from a gap; see docs/consumers.md. It is not
// journaled: it takes no seq and is always the current state, like the status message.
import type { JournalOpening } from '../journal/sqlite-journal.js';

export function journalInfoTopic(statusTopic: string): string {
  return `${statusTopic}/journal`;
}

export function journalInfoPayload(opening: JournalOpening): Buffer {
  const reset = opening.reset && {
    reason: opening.reset.reason,
    ...(opening.reset.previousJournalId === undefined ? {} : { previous_journal: opening.reset.previousJournalId }),
    ...(opening.reset.previousCeiling === undefined ? {} : { previous_seq_ceiling: opening.reset.previousCeiling }),
  };
  return Buffer.from(JSON.stringify({
    journal: opening.journalId,
    created: new Date(opening.createdAt).toISOString(),
    first_seq: opening.nextSeq,
    ...(reset ? { reset } : {}),
  }));
}
