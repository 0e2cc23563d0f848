import type { LiveEventView, LiveSessionView, StoredPayloads } from '../../live/live-events.ts';

/**
 * The room's state, built incrementally from the session's log as the socket delivers it (the join's catch-up,
 * then each broadcast). Events are applied once each (by seq) and may arrive out of order: a stretch of answer
 * text that arrives before the text in front of it waits until it fits.
 *
 * A streaming answer's text also arrives as previews, ahead of its stored events (see TokenPreview): shown at
 * once after the stored text, then confirmed by the stored events. Only the part past the stored text is ever
 * previewed; a stored event that disagrees with a preview wins, and what was previewed but never stored (a
 * stopped answer's last tokens) is dropped when the answer ends.
 */

export type TurnStatus = 'waiting' | 'streaming' | StoredPayloads['answer.ended']['status'];

export interface Turn {
  turn: number;
  prompt: string;
  promptedBy: string | null;
  /** The answer as shown: the stored text, then any previewed text after it. */
  answer: string;
  /** How much of `answer` is stored (the rest was previewed). */
  stored: number;
  status: TurnStatus;
  error: string | null;
  /** Text that arrived ahead of the text before it, by offset. */
  early: Map<number, string>;
}

export type CodePayload = StoredPayloads['code'];
export interface StoredCode extends CodePayload { id: string; seq: number; actorId: string | null; at: { turn: number; offset: number }; when: string }

export interface Comment { id: string; seq: number; actorId: string | null; text: string; at: string }

/** What an applied event changed, so the page redraws only that. */
export interface Dirty {
  turns: Set<number>;
  /** A turn was added (the list of turns needs a new item). */
  structure: boolean;
  codes: boolean;
  comments: boolean;
  participants: boolean;
  status: boolean;
  /** Short sentences for screen readers (answer started, ended...). */
  announcements: string[];
}

export const cleanDirty = (): Dirty => ({ turns: new Set(), structure: false, codes: false, comments: false, participants: false, status: false, announcements: [] });

export class RoomModel {
  readonly me: string;
  session: LiveSessionView | null = null;
  status: LiveSessionView['status'] = 'open';
  readonly turns: Turn[] = [];
  readonly codes = new Map<string, StoredCode>();
  readonly undone = new Set<string>();
  readonly comments: Comment[] = [];
  readonly names = new Map<string, string>();
  readonly participants = new Map<string, { displayName: string; role: string }>();
  /** The highest seq applied: a reconnecting client asks for what came after it. */
  maxSeq = 0;
  private readonly seen = new Set<number>();

  constructor(me: string) {
    this.me = me;
  }

  /** The join's answer: the session as seen now, and the log after the seq asked for. */
  load(view: LiveSessionView, events: LiveEventView[], dirty: Dirty): void {
    this.session = view;
    if (this.status !== view.status) dirty.status = true;
    this.status = view.status;
    for (const p of view.participants) {
      this.participants.set(p.userId, { displayName: p.displayName, role: p.role });
      this.names.set(p.userId, p.displayName);
    }
    dirty.participants = true;
    for (const e of events) this.apply(e, dirty);
  }

  /** Applies one stored event (a repeat, by seq, is ignored); false when it was a repeat. */
  apply(e: LiveEventView, dirty: Dirty): boolean {
    if (this.seen.has(e.seq)) return false;
    this.seen.add(e.seq);
    this.maxSeq = Math.max(this.maxSeq, e.seq);
    switch (e.type) {
      case 'participant.added': {
        const p = e.payload as StoredPayloads['participant.added'];
        this.participants.set(p.userId, { displayName: p.displayName, role: p.role });
        this.names.set(p.userId, p.displayName);
        dirty.participants = true;
        break;
      }
      case 'participant.removed': {
        const p = e.payload as StoredPayloads['participant.removed'];
        this.participants.delete(p.userId);
        this.names.set(p.userId, p.displayName);
        dirty.participants = true;
        break;
      }
      case 'presence.joined': {
        const p = e.payload as StoredPayloads['presence.joined'];
        if (!this.names.has(p.userId)) this.names.set(p.userId, p.displayName);
        break;
      }
      case 'prompt': {
        const p = e.payload as StoredPayloads['prompt'];
        const existing = this.turns[p.turn];
        if (existing) Object.assign(existing, { prompt: p.text, promptedBy: e.actorId });
        else this.turns[p.turn] = { turn: p.turn, prompt: p.text, promptedBy: e.actorId, answer: '', stored: 0, status: 'waiting', error: null, early: new Map() };
        dirty.structure = true;
        dirty.turns.add(p.turn);
        break;
      }
      case 'answer.started': {
        const t = this.turn((e.payload as StoredPayloads['answer.started']).turn);
        if (t.status === 'waiting') t.status = 'streaming';
        dirty.turns.add(t.turn);
        dirty.announcements.push(`The model is answering prompt ${t.turn + 1}.`);
        break;
      }
      case 'tokens': {
        const p = e.payload as StoredPayloads['tokens'];
        const t = this.turn(p.turn);
        if (t.status === 'waiting') t.status = 'streaming';
        place(t, p.offset, p.text);
        dirty.turns.add(t.turn);
        break;
      }
      case 'answer.ended': {
        const p = e.payload as StoredPayloads['answer.ended'];
        const t = this.turn(p.turn);
        t.status = p.status;
        t.error = p.error ? p.error.message : null;
        t.answer = t.answer.slice(0, t.stored);
        dirty.turns.add(t.turn);
        dirty.announcements.push(
          p.status === 'complete' ? `Answer ${t.turn + 1} is complete.` : p.status === 'failed' ? `Answer ${t.turn + 1} failed: ${t.error ?? 'no reason given'}` : `Answer ${t.turn + 1} was ${p.status}.`,
        );
        break;
      }
      case 'code': {
        const p = e.payload as StoredPayloads['code'];
        this.codes.set(e.id, { ...p, id: e.id, seq: e.seq, actorId: e.actorId, when: e.at });
        dirty.codes = true;
        p.span ? dirty.turns.add(p.span.turn) : this.touchFrom(p.at.turn, dirty);
        if (p.kind === 'state_stop' && p.startEventId) this.touchCode(p.startEventId, dirty);
        break;
      }
      case 'undo': {
        const target = (e.payload as StoredPayloads['undo']).target;
        this.undone.add(target);
        dirty.codes = true;
        this.touchCode(target, dirty);
        break;
      }
      case 'comment':
        this.comments.push({ id: e.id, seq: e.seq, actorId: e.actorId, text: (e.payload as StoredPayloads['comment']).text, at: e.at });
        this.comments.sort((a, b) => a.seq - b.seq);
        dirty.comments = true;
        break;
      case 'session.ended':
        if (this.status === 'open') this.status = 'ended';
        for (const t of this.turns) {
          if (t && (t.status === 'streaming' || t.status === 'waiting')) {
            t.status = 'stopped';
            t.answer = t.answer.slice(0, t.stored);
          }
        }
        dirty.status = true;
        dirty.structure = true;
        dirty.announcements.push('The session has ended.');
        break;
      case 'session.filed':
        this.status = 'filed';
        dirty.status = true;
        break;
      default:
        break;
    }
    return true;
  }

  /**
   * Model text not stored yet (`live:preview`): shown after the stored text when it continues what is shown (a
   * preview after a gap, missed while away, waits for the stored events instead). False when nothing changed.
   */
  preview(turn: number, offset: number, text: string, dirty: Dirty): boolean {
    const t = this.turns[turn];
    if (!t || (t.status !== 'waiting' && t.status !== 'streaming')) return false;
    const end = offset + text.length;
    if (offset > t.answer.length || end <= t.stored) return false;
    const from = Math.max(offset, t.stored);
    const piece = text.slice(from - offset);
    if (t.answer.slice(from, end) === piece) return false;
    t.answer = t.answer.slice(0, from) + piece + t.answer.slice(end);
    t.status = 'streaming';
    dirty.turns.add(t.turn);
    return true;
  }

  /** Where the stream is now: the end of the latest answer so far (null before the first prompt). */
  streamPosition(): { turn: number; offset: number } | null {
    const last = this.turns[this.turns.length - 1];
    return last ? { turn: last.turn, offset: last.answer.length } : null;
  }

  /** Whether the model is answering (or about to): the driver cannot prompt again until it is done. */
  answering(): boolean {
    const last = this.turns[this.turns.length - 1];
    return !!last && (last.status === 'waiting' || last.status === 'streaming');
  }

  nameOf(userId: string | null): string {
    if (!userId) return 'the server';
    if (userId === this.me) return 'you';
    return this.names.get(userId) ?? 'someone';
  }

  /** The coded intervals and marks as they stand (undo applied), in log order. */
  intervals(): CodeMark[] {
    const marks: CodeMark[] = [];
    const ordered = [...this.codes.values()].sort((a, b) => a.seq - b.seq);
    const stops = new Map<string, StoredCode>();
    for (const c of ordered) {
      if (c.kind === 'state_stop' && c.startEventId && !this.undone.has(c.id) && !stops.has(c.startEventId)) stops.set(c.startEventId, c);
    }
    for (const c of ordered) {
      if (this.undone.has(c.id)) continue;
      if (c.kind === 'point') marks.push({ id: c.id, kind: 'point', code: c, from: c.at, to: null, open: false });
      else if (c.kind === 'span' && c.span) marks.push({ id: c.id, kind: 'span', code: c, from: { turn: c.span.turn, offset: c.span.start }, to: { turn: c.span.turn, offset: c.span.end }, open: false });
      else if (c.kind === 'state_start') {
        const stop = stops.get(c.id);
        marks.push({ id: c.id, kind: 'state', code: c, from: c.at, to: stop ? stop.at : null, open: !stop, stop: stop ?? null });
      }
    }
    return marks;
  }

  private turn(n: number): Turn {
    let t = this.turns[n];
    if (!t) this.turns[n] = t = { turn: n, prompt: '', promptedBy: null, answer: '', stored: 0, status: 'waiting', error: null, early: new Map() };
    return t;
  }

  /** A state runs on through later turns: redraw every turn from where it started. */
  private touchFrom(turn: number, dirty: Dirty): void {
    for (let i = turn; i < this.turns.length; i++) dirty.turns.add(i);
    dirty.turns.add(turn);
  }

  private touchCode(id: string, dirty: Dirty): void {
    const c = this.codes.get(id);
    if (!c) return;
    if (c.span) dirty.turns.add(c.span.turn);
    else this.touchFrom(c.at.turn, dirty);
  }
}

/** A code as drawn: a point, a span, or a state from its start to its stop (`to` null while it runs). */
export interface CodeMark {
  id: string;
  kind: 'point' | 'span' | 'state';
  code: StoredCode;
  from: { turn: number; offset: number };
  to: { turn: number; offset: number } | null;
  open: boolean;
  stop?: StoredCode | null;
}

/**
 * Puts stored answer text at its offset: after the stored text when it fits (confirming a preview of it, or
 * replacing a preview that disagrees, with everything previewed after it), written over when repeated, kept aside
 * when early (text in front of it not stored yet).
 */
function place(t: Turn, offset: number, text: string): void {
  if (offset > t.stored) {
    t.early.set(offset, text);
    return;
  }
  write(t, offset, text);
  for (let next = t.early.get(t.stored); next !== undefined; next = t.early.get(t.stored)) {
    t.early.delete(t.stored);
    write(t, t.stored, next);
  }
  for (const at of [...t.early.keys()]) if (at < t.stored) t.early.delete(at);
}

function write(t: Turn, offset: number, text: string): void {
  const end = offset + text.length;
  const agrees = t.answer.slice(offset, end) === text;
  // Past the stored text, what follows was previewed: kept when this text is what the preview said.
  const rest = agrees || end < t.stored ? t.answer.slice(end) : '';
  t.answer = t.answer.slice(0, offset) + text + rest;
  t.stored = Math.max(t.stored, end);
}
