/** A live session as the time budget sees it: when it ran, and who observed in it. */
export interface BudgetSession { id: string; start: number; end: number; observers: string[] }
/** A state behaviour one observer had running, from its start press to its stop (null: ran until the session's end). */
export interface StateInterval { sessionId: string; observer: string; behaviour: string; from: number; to: number | null }

export interface TimeBudgetRow {
  observer: string;
  behaviour: string;
  /** Seconds the state ran, summed over the observer's sessions. */
  seconds: number;
  /** Seconds of the sessions the observer took part in. */
  sessionSeconds: number;
  /** seconds / sessionSeconds (0..1). Shares of one observer can sum above 1 when states overlap. */
  share: number;
  sessions: number;
}

/**
 * The time budget: per observer and state behaviour, the share of the observer's session time the state ran.
 * Intervals are clipped to their session (a stop after the end counts up to the end); an interval still open runs
 * to the session's end. Times in milliseconds; intervals of unknown sessions or observers who did not observe in
 * them are ignored.
 */
export function timeBudget(sessions: BudgetSession[], intervals: StateInterval[]): TimeBudgetRow[] {
  const byId = new Map(sessions.map((s) => [s.id, s]));
  const observedMs = new Map<string, { ms: number; sessions: number }>();
  for (const s of sessions) {
    for (const o of new Set(s.observers)) {
      const t = observedMs.get(o) ?? { ms: 0, sessions: 0 };
      t.ms += Math.max(0, s.end - s.start);
      t.sessions += 1;
      observedMs.set(o, t);
    }
  }
  const stateMs = new Map<string, number>();
  for (const i of intervals) {
    const s = byId.get(i.sessionId);
    if (!s || !s.observers.includes(i.observer)) continue;
    const from = Math.max(s.start, i.from);
    const to = Math.min(s.end, i.to ?? s.end);
    if (to <= from) continue;
    const key = `${i.observer}\u0000${i.behaviour}`;
    stateMs.set(key, (stateMs.get(key) ?? 0) + (to - from));
  }
  return [...stateMs.entries()]
    .map(([key, ms]) => {
      const [observer, behaviour] = key.split('\u0000') as [string, string];
      const total = observedMs.get(observer)!;
      return { observer, behaviour, seconds: ms / 1000, sessionSeconds: total.ms / 1000, share: total.ms > 0 ? ms / total.ms : 0, sessions: total.sessions };
    })
    .sort((a, b) => a.observer.localeCompare(b.observer) || a.behaviour.localeCompare(b.behaviour));
}
