import type { PresenceView } from '../../live/live-events.ts';
import type { ConnectionState } from './connection.ts';
import type { CodeMark, RoomModel } from './model.ts';
import type { PendingMark } from './transcript.ts';
import { el } from './transcript.ts';

const HEX = /^#[0-9a-f]{6}$/i;

/** The room's side panels and status lines; each method redraws one of them from the model. */
export class Panels {
  private readonly room: HTMLElement;
  private readonly model: RoomModel;
  private readonly me: string;
  private errorTimer: ReturnType<typeof setTimeout> | null = null;
  present = new Map<string, { displayName: string; role: string }>();

  constructor(
    room: HTMLElement,
    model: RoomModel,
    me: string,
  ) {
    this.room = room;
    this.model = model;
    this.me = me;
    // Swatches carry their colour as data (no style attributes under the CSP).
    room.querySelectorAll<HTMLElement>('.swatch[data-colour]').forEach((s) => paint(s, s.dataset.colour ?? ''));
  }

  private part<T extends HTMLElement = HTMLElement>(name: string): T | null {
    return this.room.querySelector<T>(`[data-live="${name}"]`);
  }

  /** "Connected", "Reconnecting — 2 codes waiting to send"... */
  connection(state: ConnectionState, waiting: string): void {
    const line = this.part('connection');
    if (!line) return;
    line.dataset.state = state;
    const ended = this.model.status !== 'open';
    const text: Record<ConnectionState, string> = {
      connecting: 'Connecting…',
      connected: ended ? 'Connected · the session has ended' : 'Connected',
      reconnecting: 'Reconnecting…',
      removed: 'You were removed from this session.',
      failed: 'Not connected.',
    };
    let message = text[state];
    if (waiting) message = state === 'connected' ? `${message} — sending ${waiting}…` : `${message.replace(/…$/, '')} — ${waiting} waiting to send`;
    line.textContent = message;
  }

  announce(messages: string[]): void {
    const region = this.part('announce');
    if (region && messages.length) region.textContent = messages.join(' ');
  }

  error(message: string): void {
    const box = this.part('error');
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
    if (this.errorTimer) clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => {
      box.hidden = true;
      box.textContent = '';
    }, 12_000);
  }

  status(): void {
    const status = this.model.status;
    this.room.dataset.status = status;
    const badge = document.querySelector<HTMLElement>('[data-live="session-status"]');
    if (badge) {
      badge.textContent = status === 'open' ? 'open' : status === 'ended' ? 'ended' : 'filed as an observation';
      badge.className = `badge live-status-${status}`;
    }
    const after = document.querySelector<HTMLElement>('[data-live="after"]');
    if (after) after.hidden = status === 'open';
    if (status !== 'open') {
      this.room.querySelectorAll<HTMLButtonElement | HTMLTextAreaElement>('.live-prompt-form button, .live-prompt-form textarea, .live-comment-form button, .live-comment-form textarea, button.live-behaviour, button.live-modifier, [data-live="undo"]').forEach((c) => (c.disabled = true));
      document.querySelector<HTMLElement>('[data-live="end-panel"]')?.setAttribute('hidden', '');
      const toggle = this.room.querySelector<HTMLElement>('.live-codes-toggle');
      if (toggle) toggle.hidden = false;
    }
  }

  /** The codes list: mine always (waiting ones marked so), others' when shown. */
  codes(marks: CodeMark[], pending: PendingMark[], showOthers: boolean, behaviourName: (code: string) => { name: string; colour: string } | undefined): void {
    const list = this.part<HTMLOListElement>('codes');
    if (!list) return;
    const items: HTMLLIElement[] = [];
    for (const m of marks) {
      const mine = m.code.actorId === this.me;
      if (!mine && !showOthers) continue;
      const b = behaviourName(m.code.behaviourCode);
      const where =
        m.kind === 'point'
          ? `turn ${m.from.turn + 1}, at character ${m.from.offset}`
          : m.kind === 'span'
            ? `turn ${m.from.turn + 1}, characters ${m.from.offset}–${m.to!.offset}`
            : `turn ${m.from.turn + 1} character ${m.from.offset} to ${m.to ? `turn ${m.to.turn + 1} character ${m.to.offset}${m.stop?.autoClosed ? ' (closed by the end)' : ''}` : 'now (running)'}`;
      items.push(this.codeItem(m.id, mine ? 'stored' : 'others', mine, m.code.behaviourCode, b, `(${m.kind}) by ${this.model.nameOf(m.code.actorId)}, ${where}`, m.code.span?.quote ?? '', m.code.modifiers));
    }
    for (const p of pending) {
      const where = p.span ? `turn ${p.span.turn + 1}, characters ${p.span.start}–${p.span.end}` : `turn ${p.at.turn + 1}, at character ${p.at.offset}`;
      items.push(this.codeItem(p.id, 'pending', true, p.behaviourCode, behaviourName(p.behaviourCode), `by you, ${where} — waiting to be sent`, '', {}));
    }
    list.replaceChildren(...items);
    const empty = this.part('no-codes');
    if (empty) empty.hidden = items.length > 0;
  }

  private codeItem(id: string, state: string, mine: boolean, code: string, b: { name: string; colour: string } | undefined, detail: string, quote: string, modifiers: Record<string, string>): HTMLLIElement {
    const li = el('li', `live-code${mine ? ' mine' : ''}`);
    li.dataset.codeId = id;
    li.dataset.state = state;
    li.dataset.behaviour = code;
    const swatch = el('span', 'swatch');
    paint(swatch, b?.colour ?? '');
    li.append(swatch, el('strong', 'mono', code), ` ${b?.name ?? ''} `, el('span', 'muted', detail));
    if (quote) {
      const q = el('q', '', quote);
      li.append(' ', q);
    }
    const mods = Object.entries(modifiers).map(([k, v]) => `${k}: ${v}`).join(', ');
    if (mods) li.append(' ', el('small', '', `[${mods}]`));
    return li;
  }

  comments(): void {
    const list = this.part<HTMLOListElement>('comments');
    if (!list) return;
    list.replaceChildren(
      ...this.model.comments.map((c) => {
        const li = el('li');
        li.dataset.commentId = c.id;
        li.append(el('strong', '', this.model.nameOf(c.actorId)), ' ', el('small', 'muted', c.at.slice(11, 16) + ' UTC'), el('div', 'live-comment-text', c.text));
        return li;
      }),
    );
    list.scrollTop = list.scrollHeight;
    const empty = this.part('no-comments');
    if (empty) empty.hidden = this.model.comments.length > 0;
  }

  /** The participants list with who is here now (presence), kept in step with the log's roster events. */
  participants(): void {
    const list = this.part<HTMLUListElement>('participants');
    if (!list) return;
    const shown = new Set<string>();
    for (const [userId, p] of this.model.participants) {
      shown.add(userId);
      let li = list.querySelector<HTMLLIElement>(`li[data-user-id="${userId}"]`);
      if (!li) {
        li = el('li');
        li.dataset.userId = userId;
        const dot = el('span', 'live-presence');
        dot.dataset.live = 'presence';
        dot.setAttribute('aria-hidden', 'true');
        const here = el('span', 'visually-hidden');
        here.dataset.live = 'here-text';
        li.append(dot, el('span', 'live-name', p.displayName), ' ', el('span', `badge live-role-${p.role}`, p.role), here);
        list.append(li);
      }
      const badge = li.querySelector('.badge');
      if (badge && badge.textContent !== p.role) {
        badge.textContent = p.role;
        badge.className = `badge live-role-${p.role}`;
      }
    }
    // Present people who are not participants (an administrator looking in) are listed while here.
    for (const [userId, p] of this.present) {
      if (shown.has(userId)) continue;
      shown.add(userId);
      let li = list.querySelector<HTMLLIElement>(`li[data-user-id="${userId}"]`);
      if (!li) {
        li = el('li', 'guest');
        li.dataset.userId = userId;
        const dot = el('span', 'live-presence');
        dot.setAttribute('aria-hidden', 'true');
        const here = el('span', 'visually-hidden');
        here.dataset.live = 'here-text';
        li.append(dot, el('span', 'live-name', p.displayName), ' ', el('span', 'badge', p.role), here);
        list.append(li);
      }
    }
    list.querySelectorAll<HTMLLIElement>('li[data-user-id]').forEach((li) => {
      const userId = li.dataset.userId!;
      if (!shown.has(userId)) return li.remove();
      const here = this.present.has(userId);
      li.classList.toggle('here', here);
      const text = li.querySelector('[data-live="here-text"]');
      if (text) text.textContent = here ? ' (here now)' : ' (not here)';
    });
    const summary = this.part('presence-summary');
    if (summary) {
      const names = [...this.present].map(([id, p]) => `${id === this.me ? 'you' : p.displayName} (${p.role})`);
      summary.textContent = names.length ? `Here now: ${names.join(', ')}.` : 'Nobody else is here yet.';
    }
  }

  presence(view: PresenceView): void {
    this.present = new Map(view.present.map((p) => [p.userId, { displayName: p.displayName, role: p.role }]));
    this.participants();
  }
}

export function paint(node: HTMLElement, colour: string): void {
  if (HEX.test(colour)) node.style.backgroundColor = colour;
}
