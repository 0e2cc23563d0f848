import type { Db } from '../core/db.ts';
import { computeLiveAgreement } from './live-agreement.ts';
import { readLog, type LiveSessionRow } from './live-session.queries.ts';
import { foldSession } from './session-record.ts';
import { loadSessionSummary, type SessionSummary } from './session-summary.queries.ts';

/** A session's summary as one reader may see it. */
export interface ReaderSummary extends SessionSummary {
  /**
   * True while a blind session is open: the record, the figures and the names hold only what `readLog` shows
   * this reader (their own codes, nobody else's), so nothing of others' codes leaks, not even a count.
   */
  othersCodesHidden: boolean;
}

/**
 * The summary for someone already authorized to see the session (`live.join`). Once the session has ended, or
 * when it is not blind, that is the whole summary. While a blind session is open, the log is read through
 * `readLog` (others' codes and undos left out, exactly as the room and the log show it), folded and measured
 * again, and the names are cut down to the people that reduced record and the roster name: the figures then
 * describe the reader's own codes only, and say so (fewer than two observers).
 *
 * The status is taken from the summary's own read, so a session that ends between the caller's check and this
 * read is shown whole only if it had ended by the time its log was read.
 */
export async function loadSummaryForReader(db: Db, session: Pick<LiveSessionRow, 'id'>, readerId: string | null): Promise<ReaderSummary> {
  const summary = await loadSessionSummary(db, session.id);
  if (!(summary.session.blind && summary.session.status === 'open')) return { ...summary, othersCodesHidden: false };

  const record = foldSession(await readLog(db, { id: summary.session.id, blind: true, status: 'open' }, readerId));
  const shown = new Set<string>([
    summary.session.owner.id,
    ...summary.participants.map((p) => p.userId),
    ...record.participants.map((p) => p.userId),
    ...record.coders,
    ...record.comments.flatMap((c) => (c.authorId ? [c.authorId] : [])),
  ]);
  return {
    ...summary,
    names: Object.fromEntries(Object.entries(summary.names).filter(([id]) => shown.has(id))),
    record,
    agreement: computeLiveAgreement(record),
    // Decisions are taken after the end; an open session has none, and they would name others' codes.
    decisions: [],
    othersCodesHidden: true,
  };
}
