import type { Cursor } from '../../live/live-events.ts';
import type { RemoteCursor } from './connection.ts';
import { positionAtPoint, rangeOf, readAnswerSelection } from './text-offsets.ts';

/** At most this often (ms) a cursor move is sent: about four a second, well inside the server's rate limit. */
const SEND_EVERY_MS = 250;
/** While the cursor or a selection stays put it is sent again this often, so others do not drop it as stale. */
const HEARTBEAT_MS = 2000;
/** Others' cursors not heard from for this long are dropped. */
export const STALE_MS = 5000;

type Mine = Omit<Cursor, 'sessionId'>;

/**
 * Cursors and selections, both ways. Mine: where the pointer is over an answer's text and what text of an
 * answer is selected (not while a blind session runs), sent (volatile: never queued or stored) when it changes,
 * at most a few times a second.
 * Others': drawn over the answers as a thin caret with the person's name and a tint over their selection,
 * dropped when not heard from for 5 s. Drawing uses an overlay (positions from DOM ranges), so the answers'
 * text is never touched and offsets stay exact.
 */
export class Cursors {
  private readonly room: HTMLElement;
  private readonly transcript: HTMLElement;
  private readonly me: string;
  private readonly send: (cursor: Mine) => void;
  /** False in a blind session that is still open: a selection shows what its owner is about to code. */
  private readonly shareSelection: () => boolean;
  private readonly others = new Map<string, { cursor: RemoteCursor; heardAt: number }>();
  private mine: Mine = { at: null, selection: null };
  private lastSent = '';
  private lastSentAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    room: HTMLElement,
    transcript: HTMLElement,
    me: string,
    send: (cursor: Mine) => void,
    shareSelection: () => boolean = () => true,
  ) {
    this.room = room;
    this.transcript = transcript;
    this.me = me;
    this.send = send;
    this.shareSelection = shareSelection;
    transcript.addEventListener('mousemove', (event) => this.update({ at: positionAtPoint(event.clientX, event.clientY) }));
    transcript.addEventListener('mouseleave', () => this.update({ at: null }));
    document.addEventListener('selectionchange', () => {
      const reading = this.shareSelection() ? readAnswerSelection(transcript) : null;
      this.update({ selection: reading && 'span' in reading ? { turn: reading.span.turn, start: reading.span.start, end: reading.span.end } : null });
    });
    setInterval(() => this.tick(), 1000);
    window.addEventListener('resize', () => this.draw());
  }

  receive(cursor: RemoteCursor): void {
    if (cursor.userId === this.me) return;
    this.others.set(cursor.userId, { cursor, heardAt: Date.now() });
    this.draw();
  }

  /** Someone left: their cursor goes at once. */
  forget(present: Set<string>): void {
    let changed = false;
    for (const id of this.others.keys()) {
      if (!present.has(id)) {
        this.others.delete(id);
        changed = true;
      }
    }
    if (changed) this.draw();
  }

  /** Redraws others' cursors (after the answers were redrawn, or the layout changed). */
  draw(): void {
    const layers = this.room.querySelectorAll<HTMLElement>('.live-cursor-layer');
    layers.forEach((layer) => layer.replaceChildren());
    for (const { cursor } of this.others.values()) {
      const hue = hueOf(cursor.userId);
      if (cursor.selection) this.drawSelection(cursor, hue);
      if (cursor.at) this.drawCaret(cursor, hue);
    }
  }

  private update(change: Partial<Mine>): void {
    this.mine = { ...this.mine, ...change };
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastSentAt + SEND_EVERY_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      const payload = JSON.stringify(this.mine);
      const idle = this.mine.at === null && this.mine.selection === null;
      if (payload === this.lastSent && (idle || Date.now() - this.lastSentAt < HEARTBEAT_MS)) return;
      this.lastSent = payload;
      this.lastSentAt = Date.now();
      this.send(this.mine);
    }, wait);
  }

  private tick(): void {
    const now = Date.now();
    let changed = false;
    for (const [id, entry] of this.others) {
      if (now - entry.heardAt > STALE_MS) {
        this.others.delete(id);
        changed = true;
      }
    }
    if (changed) this.draw();
    if ((this.mine.at || this.mine.selection) && now - this.lastSentAt >= HEARTBEAT_MS) this.schedule();
  }

  private answer(turn: number): { text: HTMLElement; layer: HTMLElement; box: DOMRect } | null {
    const text = this.transcript.querySelector<HTMLElement>(`.live-answer-text[data-turn="${turn}"]`);
    const layer = text?.parentElement?.querySelector<HTMLElement>('.live-cursor-layer');
    if (!text || !layer) return null;
    return { text, layer, box: layer.parentElement!.getBoundingClientRect() };
  }

  private drawCaret(cursor: RemoteCursor, hue: number): void {
    const target = this.answer(cursor.at!.turn);
    if (!target) return;
    const length = target.text.textContent?.length ?? 0;
    const offset = Math.min(cursor.at!.offset, length);
    const range = rangeOf(target.text, offset, offset);
    const rect = range.getClientRects()[0] ?? range.getBoundingClientRect();
    if (!rect || (rect.height === 0 && rect.top === 0)) return;
    const caret = document.createElement('span');
    caret.className = 'live-remote-caret';
    caret.dataset.userId = cursor.userId;
    caret.dataset.name = cursor.displayName;
    caret.title = cursor.displayName;
    caret.style.setProperty('--cursor-hue', String(hue));
    caret.style.left = `${rect.left - target.box.left}px`;
    caret.style.top = `${rect.top - target.box.top}px`;
    caret.style.height = `${Math.max(rect.height, 14)}px`;
    target.layer.append(caret);
  }

  private drawSelection(cursor: RemoteCursor, hue: number): void {
    const s = cursor.selection!;
    const target = this.answer(s.turn);
    if (!target) return;
    const length = target.text.textContent?.length ?? 0;
    const range = rangeOf(target.text, Math.min(s.start, length), Math.min(s.end, length));
    for (const rect of range.getClientRects()) {
      if (rect.width === 0) continue;
      const box = document.createElement('span');
      box.className = 'live-remote-selection';
      box.dataset.userId = cursor.userId;
      box.title = `${cursor.displayName}'s selection`;
      box.style.setProperty('--cursor-hue', String(hue));
      box.style.left = `${rect.left - target.box.left}px`;
      box.style.top = `${rect.top - target.box.top}px`;
      box.style.width = `${rect.width}px`;
      box.style.height = `${rect.height}px`;
      target.layer.append(box);
    }
  }
}

/** A stable hue per person, so each one's cursor keeps its colour. */
export function hueOf(userId: string): number {
  let h = 0;
  for (let i = 0; i < userId.length; i++) h = (h * 31 + userId.charCodeAt(i)) % 360;
  return h;
}
