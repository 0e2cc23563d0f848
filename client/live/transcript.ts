import type { LiveSessionView } from '../../live/live-events.ts';
import type { CodeMark, RoomModel, Turn, TurnStatus } from './model.ts';
import { restoreSelection, saveSelection } from './text-offsets.ts';

type Behaviour = LiveSessionView['behaviours'][number];

/** A code of mine still waiting for the server: drawn dashed where it will go. */
export interface PendingMark { id: string; behaviourCode: string; at: { turn: number; offset: number }; span: { turn: number; start: number; end: number } | null }

export interface TranscriptOptions {
  me: string;
  showOthers: () => boolean;
  pending: () => PendingMark[];
  behaviour: (code: string) => Behaviour | undefined;
}

const STATUS_LABELS: Record<TurnStatus, string> = {
  waiting: 'waiting for the model…',
  streaming: 'answering…',
  complete: 'complete',
  stopped: 'stopped',
  failed: 'failed',
  interrupted: 'interrupted (the server restarted)',
};

interface Range { start: number; end: number; colour: string; label: string; mine: boolean; pending: boolean; seq: number; id: string }
interface Point { offset: number; colour: string; label: string; mine: boolean; pending: boolean; id: string }

const HEX = /^#[0-9a-f]{6}$/i;
const colourOf = (b: Behaviour | undefined) => (b && HEX.test(b.colour) ? b.colour : '#777777');

/**
 * Draws the conversation: one list item per turn (prompt, then the answer with its status), and the codes on
 * the answers: a point as a small coloured marker where the answer was when the key was pressed, a state as a
 * highlighted range from its start to its stop (to the end of the text so far while it runs), a span as its
 * highlighted text. Your own codes are always drawn; others' when "show others' codes" is on. Redrawing an
 * answer keeps the reader's text selection; while a mouse button is held in the conversation (a selection
 * being dragged) redraws wait for its release.
 */
export class Transcript {
  private readonly list: HTMLOListElement;
  private readonly model: RoomModel;
  private readonly options: TranscriptOptions;
  private readonly afterDraw: () => void;
  private holding = false;
  private readonly waitingTurns = new Set<number>();

  constructor(
    list: HTMLOListElement,
    model: RoomModel,
    options: TranscriptOptions,
    afterDraw: () => void,
  ) {
    this.list = list;
    this.model = model;
    this.options = options;
    this.afterDraw = afterDraw;
    list.addEventListener('mousedown', () => (this.holding = true));
    document.addEventListener('mouseup', () => {
      if (!this.holding) return;
      this.holding = false;
      if (this.waitingTurns.size) {
        const turns = [...this.waitingTurns];
        this.waitingTurns.clear();
        this.draw(turns);
      }
    });
  }

  /** Rebuilds every turn (after the first join). */
  drawAll(): void {
    this.list.replaceChildren();
    this.draw(this.model.turns.filter(Boolean).map((t) => t.turn));
  }

  /** Redraws these turns (adding missing items). */
  draw(turns: Iterable<number>): void {
    const wanted = [...new Set(turns)].sort((a, b) => a - b);
    if (this.holding) {
      for (const t of wanted) this.waitingTurns.add(t);
      // A new turn's item is still added, so the stream stays visible; its text follows on release.
      for (const t of wanted) if (!this.item(t)) this.drawTurn(this.model.turns[t]!);
      return;
    }
    const marks = this.model.intervals();
    for (const t of wanted) {
      const turn = this.model.turns[t];
      if (turn) this.drawTurn(turn, marks);
    }
    const empty = document.querySelector<HTMLElement>('[data-live="no-turns"]');
    if (empty) empty.hidden = this.model.turns.length > 0;
    this.afterDraw();
  }

  private item(turn: number): HTMLLIElement | null {
    return this.list.querySelector<HTMLLIElement>(`li.live-turn[data-turn="${turn}"]`);
  }

  private drawTurn(t: Turn, marks?: CodeMark[]): void {
    let li = this.item(t.turn);
    if (!li) {
      li = buildTurn(t.turn);
      const next = [...this.list.children].find((c) => Number((c as HTMLElement).dataset.turn) > t.turn);
      this.list.insertBefore(li, next ?? null);
    }
    li.querySelector('.live-prompt .live-text')!.textContent = t.prompt;
    li.querySelector('.live-prompt .live-by')!.textContent = `by ${this.model.nameOf(t.promptedBy)}`;
    const answer = li.querySelector<HTMLElement>('.live-answer')!;
    answer.dataset.status = t.status;
    li.querySelector('[data-live="answer-status"]')!.textContent = STATUS_LABELS[t.status];
    const error = li.querySelector<HTMLElement>('.live-answer-error')!;
    error.hidden = !t.error;
    error.textContent = t.error ?? '';
    if (!marks) return;
    const text = li.querySelector<HTMLElement>('.live-answer-text')!;
    const saved = saveSelection(text);
    text.replaceChildren(...this.segments(t, marks));
    if (saved) restoreSelection(text, saved);
  }

  /** The answer's text cut at every code boundary: text, highlighted ranges and point markers. */
  private segments(t: Turn, marks: CodeMark[]): Node[] {
    const length = t.answer.length;
    const ranges: Range[] = [];
    const points: Point[] = [];
    const lastTurn = this.model.turns.length - 1;
    for (const m of marks) {
      const mine = m.code.actorId === this.options.me;
      if (!mine && !this.options.showOthers()) continue;
      const b = this.options.behaviour(m.code.behaviourCode);
      const who = this.model.nameOf(m.code.actorId);
      const base = { colour: colourOf(b), mine, pending: false, id: m.id };
      const name = `${m.code.behaviourCode}${b ? ` ${b.name}` : ''}`;
      if (m.kind === 'point') {
        if (m.from.turn === t.turn) points.push({ ...base, offset: Math.min(m.from.offset, length), label: `${name}, by ${who}` });
      } else if (m.kind === 'span') {
        if (m.from.turn === t.turn) ranges.push({ ...base, start: m.from.offset, end: Math.min(m.to!.offset, length), seq: m.code.seq, label: `${name} (span), by ${who}` });
      } else {
        const toTurn = m.to ? m.to.turn : Math.max(lastTurn, m.from.turn);
        if (t.turn < m.from.turn || t.turn > toTurn) continue;
        const start = t.turn === m.from.turn ? Math.min(m.from.offset, length) : 0;
        const end = m.to && t.turn === m.to.turn ? Math.min(m.to.offset, length) : length;
        const label = `${name} (state${m.open ? ', running' : ''}), by ${who}`;
        if (end > start) ranges.push({ ...base, start, end, seq: m.code.seq, label });
        else if (t.turn === m.from.turn) points.push({ ...base, offset: start, label });
      }
    }
    for (const p of this.options.pending()) {
      const b = this.options.behaviour(p.behaviourCode);
      const base = { colour: colourOf(b), mine: true, pending: true, id: p.id, label: `${p.behaviourCode}, waiting to be sent` };
      if (p.span && p.span.turn === t.turn) ranges.push({ ...base, start: p.span.start, end: Math.min(p.span.end, length), seq: Number.MAX_SAFE_INTEGER });
      else if (!p.span && p.at.turn === t.turn) points.push({ ...base, offset: Math.min(p.at.offset, length) });
    }

    const cuts = new Set<number>([0, length]);
    for (const r of ranges) cuts.add(Math.max(0, r.start)).add(Math.min(length, r.end));
    for (const p of points) cuts.add(p.offset);
    const sorted = [...cuts].sort((a, b) => a - b);
    const nodes: Node[] = [];
    for (let i = 0; i < sorted.length; i++) {
      const at = sorted[i]!;
      for (const p of points) if (p.offset === at) nodes.push(pointMarker(p));
      const next = sorted[i + 1];
      if (next === undefined || next <= at) continue;
      const piece = t.answer.slice(at, next);
      const active = ranges.filter((r) => r.start <= at && r.end >= next).sort((a, b) => a.seq - b.seq);
      if (active.length === 0) {
        nodes.push(document.createTextNode(piece));
        continue;
      }
      const top = active[active.length - 1]!;
      const mark = document.createElement('mark');
      mark.className = 'live-range';
      mark.classList.toggle('mine', active.some((r) => r.mine));
      mark.classList.toggle('pending', active.every((r) => r.pending));
      mark.classList.toggle('overlap', active.length > 1);
      mark.style.setProperty('--code-colour', top.colour);
      mark.dataset.codeIds = active.map((r) => r.id).join(' ');
      mark.title = active.map((r) => r.label).join('\n');
      mark.textContent = piece;
      nodes.push(mark);
    }
    return nodes;
  }
}

function pointMarker(p: Point): HTMLElement {
  const marker = document.createElement('span');
  marker.className = 'live-point';
  marker.classList.toggle('mine', p.mine);
  marker.classList.toggle('pending', p.pending);
  marker.setAttribute('role', 'img');
  marker.setAttribute('aria-label', p.label);
  marker.title = p.label;
  marker.dataset.codeId = p.id;
  marker.style.setProperty('--code-colour', p.colour);
  return marker;
}

/** A turn's list item, the same markup the server renders (server/views/pages/live/room.hbs). */
function buildTurn(turn: number): HTMLLIElement {
  const li = document.createElement('li');
  li.className = 'live-turn';
  li.dataset.turn = String(turn);
  li.id = `turn-${turn + 1}`;
  const prompt = el('div', 'live-message live-prompt');
  const promptWho = el('p', 'live-who');
  promptWho.append(el('span', 'role', `Prompt ${turn + 1}`), ' ', el('span', 'muted live-by'));
  prompt.append(promptWho, el('div', 'live-text'));
  const answer = el('div', 'live-message live-answer');
  const answerWho = el('p', 'live-who');
  const status = el('span', 'live-answer-status muted');
  status.dataset.live = 'answer-status';
  answerWho.append(el('span', 'role', `Answer ${turn + 1}`), ' ', status);
  const text = el('div', 'live-text live-answer-text');
  text.dataset.turn = String(turn);
  const error = el('p', 'live-answer-error');
  error.hidden = true;
  const layer = el('div', 'live-cursor-layer');
  layer.setAttribute('aria-hidden', 'true');
  answer.append(answerWho, text, error, layer);
  li.append(prompt, answer);
  return li;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
