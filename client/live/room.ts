import type { ClientEvent, LiveEventView, LiveSessionView } from '../../live/live-events.ts';
import { LiveConnection, type ConnectionState } from './connection.ts';
import { Cursors } from './cursors.ts';
import { installKeyboard } from './keyboard.ts';
import { cleanDirty, RoomModel, type Dirty } from './model.ts';
import { newEventId } from './outbox.ts';
import { Panels } from './panels.ts';
import { readAnswerSelection } from './text-offsets.ts';
import { Transcript, type PendingMark } from './transcript.ts';

type Behaviour = LiveSessionView['behaviours'][number];

/**
 * The live room (`<div data-enhance="live-room">`, server/views/pages/live/room.hbs): joins the session over
 * the socket, redraws the conversation, codes, comments and participants from the log as it grows, and gives
 * each role its controls: the driver's prompt box and Stop button, the observers' coding keys, everyone's
 * comments. Without JavaScript the page is the server's read-only view of the session so far.
 */
export function startRoom(room: HTMLElement): void {
  const sessionId = room.dataset.sessionId ?? '';
  const me = room.dataset.userId ?? '';
  if (!sessionId || !me) return;
  const canCode = room.dataset.canCode === 'true';
  const canPrompt = room.dataset.canPrompt === 'true';
  const canComment = room.dataset.canComment === 'true';

  const model = new RoomModel(me);
  const panels = new Panels(room, model, me);
  const behaviours = new Map<string, Behaviour>();
  const byHotkey = new Map<string, string>();
  const list = room.querySelector<HTMLOListElement>('[data-live="turns"]')!;
  const showOthersBox = room.querySelector<HTMLInputElement>('[data-live="show-others"]');
  const showOthers = () => showOthersBox?.checked ?? true;
  const pendingModifiers = new Map<string, string>();
  let joinedOnce = false;

  const pendingCodes = (): PendingMark[] =>
    connection.outbox
      .list()
      .filter((e): e is Extract<ClientEvent, { type: 'code' }> => e.type === 'code' && !model.codes.has(e.id))
      .map((e) => ({ id: e.id, behaviourCode: e.behaviourCode, at: e.at, span: e.span ?? null }));

  const transcript = new Transcript(list, model, { me, showOthers, pending: pendingCodes, behaviour: (code) => behaviours.get(code) }, () => cursors.draw());
  const cursors = new Cursors(room, list, me, (cursor) => connection.cursor(cursor), () => room.dataset.blind !== 'true' || model.status !== 'open');

  // Redraws are batched: a burst of events (a catch-up, a fast stream) costs one redraw.
  let queued: Dirty | null = null;
  let pendingTurns = new Set<number>();
  const render = (dirty: Dirty) => {
    if (!queued) {
      queued = dirty;
      setTimeout(flush, 16);
      return;
    }
    for (const t of dirty.turns) queued.turns.add(t);
    queued.structure ||= dirty.structure;
    queued.codes ||= dirty.codes;
    queued.comments ||= dirty.comments;
    queued.participants ||= dirty.participants;
    queued.status ||= dirty.status;
    queued.announcements.push(...dirty.announcements);
  };
  const flush = () => {
    const dirty = queued;
    queued = null;
    if (!dirty) return;
    if (dirty.status) {
      panels.status();
      panels.connection(connection.state, connection.outbox.describe());
    }
    const pending = pendingCodes();
    const nowPending = new Set(pending.map((p) => (p.span ? p.span.turn : p.at.turn)));
    const turns = new Set([...dirty.turns, ...pendingTurns, ...nowPending]);
    pendingTurns = nowPending;
    if (dirty.structure) for (const t of model.turns) if (t) turns.add(t.turn);
    if (turns.size) transcript.draw(turns);
    if (dirty.codes) drawCodes();
    if (dirty.comments) panels.comments();
    if (dirty.participants) panels.participants();
    panels.announce(dirty.announcements);
    drawControls();
  };

  const drawCodes = () => {
    const marks = model.intervals();
    panels.codes(marks, pendingCodes(), showOthers(), (code) => behaviours.get(code));
    const running = new Set(marks.filter((m) => m.kind === 'state' && m.open && m.code.actorId === me).map((m) => m.code.behaviourCode));
    room.querySelectorAll<HTMLElement>('.live-behaviour[data-kind="state"]').forEach((b) => {
      const on = running.has(b.dataset.code ?? '');
      if (b instanceof HTMLButtonElement) b.setAttribute('aria-pressed', String(on));
      b.classList.toggle('running', on);
      const label = b.querySelector<HTMLElement>('[data-live="running"]');
      if (label) label.hidden = !on;
    });
    const undo = room.querySelector<HTMLButtonElement>('[data-live="undo"]');
    if (undo) undo.disabled = !canCode || model.status !== 'open' || undoTarget() === null;
  };

  const drawControls = () => {
    const open = model.status === 'open' && connectionUsable();
    const answering = model.answering();
    const send = room.querySelector<HTMLButtonElement>('[data-live="send"]');
    if (send) send.disabled = !open || answering;
    const stop = room.querySelector<HTMLButtonElement>('[data-live="stop"]');
    if (stop) stop.disabled = model.status !== 'open' || !answering;
    room.querySelectorAll<HTMLButtonElement>('button.live-behaviour, button.live-modifier').forEach((b) => (b.disabled = !canCode || model.status !== 'open'));
  };
  const connectionUsable = () => connection.state !== 'removed' && connection.state !== 'failed';

  const lastCode = (message: string) => {
    const line = room.querySelector<HTMLElement>('[data-live="last-code"]');
    if (line) line.textContent = message;
  };

  const connection = new LiveConnection(sessionId, me, () => model.maxSeq, {
    joined(view: LiveSessionView, events: LiveEventView[]) {
      behaviours.clear();
      byHotkey.clear();
      for (const b of view.behaviours) {
        behaviours.set(b.code, b);
        if (b.hotkey) byHotkey.set(b.hotkey.toLowerCase(), b.code);
      }
      const dirty = cleanDirty();
      model.load(view, events, dirty);
      if (!joinedOnce) {
        joinedOnce = true;
        // The first join brings the whole log: draw everything from it (replacing the server's rendering).
        transcript.drawAll();
        dirty.codes = dirty.comments = dirty.participants = dirty.status = true;
        dirty.announcements = [];
      }
      render(dirty);
    },
    event(event: LiveEventView) {
      const dirty = cleanDirty();
      if (!model.apply(event, dirty)) return;
      if (event.type === 'comment' && event.actorId !== me) dirty.announcements.push(`${model.nameOf(event.actorId)} commented: ${(event.payload as { text: string }).text}`);
      // A removed person is no longer shown as here, even before the next presence update.
      if (event.type === 'participant.removed') panels.present.delete((event.payload as { userId: string }).userId);
      // Others' codes of a blind session were kept from us while it ran: now that it has ended, fetch them.
      if (event.type === 'session.ended' && room.dataset.blind === 'true') connection.resync();
      if (event.type === 'participant.added' && (event.payload as { userId: string }).userId === me) {
        panels.error(`Your role is now ${(event.payload as { role: string }).role}: reload the page for its controls.`);
      }
      render(dirty);
    },
    preview(preview) {
      const dirty = cleanDirty();
      if (model.preview(preview.turn, preview.offset, preview.text, dirty)) render(dirty);
    },
    presence(view) {
      panels.presence(view);
      cursors.forget(new Set(view.present.map((p) => p.userId)));
    },
    cursor: (cursor) => cursors.receive(cursor),
    removed(message) {
      panels.error(message);
      room.querySelectorAll<HTMLButtonElement | HTMLTextAreaElement>('.live-room button, .live-room textarea').forEach((c) => (c.disabled = true));
    },
    state(state: ConnectionState) {
      panels.connection(state, connection.outbox.describe());
      const dirty = cleanDirty();
      dirty.codes = true;
      render(dirty);
    },
    acked(event, seq) {
      if (event.type === 'code') lastCode(`Stored: ${describeCode(event)}${seq ? ` (#${seq})` : ''}.`);
      else if (event.type === 'undo') lastCode('Your code was withdrawn.');
    },
    refused(event, message) {
      panels.error(event ? `Not stored: ${message}` : message);
      if (event?.type === 'code') lastCode(`Not stored: ${event.behaviourCode}.`);
      if (event?.type === 'prompt') {
        const input = room.querySelector<HTMLTextAreaElement>('[data-live="prompt-input"]');
        if (input && !input.value) input.value = event.text;
      }
      const dirty = cleanDirty();
      dirty.codes = true;
      render(dirty);
    },
  });

  const describeCode = (e: Extract<ClientEvent, { type: 'code' }>) => {
    const where = e.span ? `characters ${e.span.start}–${e.span.end} of answer ${e.span.turn + 1}` : `answer ${e.at.turn + 1}, character ${e.at.offset}`;
    const mods = Object.entries(e.modifiers ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
    return `${e.behaviourCode} at ${where}${mods ? ` (${mods})` : ''}`;
  };

  const send = (event: ClientEvent): boolean => {
    const result = connection.send(event);
    if (!result.ok) panels.error(result.message);
    return result.ok;
  };

  /** The code of mine an undo would withdraw: my last one not withdrawn yet (sent or waiting to be). */
  const undoTarget = (): string | null => {
    const undone = new Set(model.undone);
    for (const e of connection.outbox.list()) if (e.type === 'undo') undone.add(e.target);
    const stored = [...model.codes.values()]
      .filter((c) => c.actorId === me && !c.autoClosed)
      .sort((a, b) => a.seq - b.seq)
      .filter((c) => !(c.kind === 'state_stop' && c.startEventId && undone.has(c.startEventId)))
      .map((c) => c.id);
    const waiting = connection.outbox.list().filter((e) => e.type === 'code' && !model.codes.has(e.id)).map((e) => e.id);
    const candidates = [...stored, ...waiting].filter((id) => !undone.has(id));
    return candidates[candidates.length - 1] ?? null;
  };

  const code = (behaviourCode: string) => {
    if (!canCode || model.status !== 'open') return;
    const behaviour = behaviours.get(behaviourCode);
    if (!behaviour) return;
    const at = model.streamPosition();
    if (!at) {
      panels.error('Nothing to code yet: codes mark the model\'s answers, and the driver has not prompted it yet.');
      return;
    }
    const reading = readAnswerSelection(list);
    if (reading && 'problem' in reading) {
      panels.error(reading.problem);
      return;
    }
    const modifiers: Record<string, string> = {};
    const skipped: string[] = [];
    for (const [set, value] of pendingModifiers) {
      if (behaviour.modifierSets.includes(set)) modifiers[set] = value;
      else skipped.push(set);
    }
    const event: Extract<ClientEvent, { type: 'code' }> = {
      type: 'code',
      sessionId,
      id: newEventId(),
      behaviourCode,
      at,
      modifiers,
      rationale: '',
      ...(reading ? { span: { turn: reading.span.turn, start: reading.span.start, end: reading.span.end } } : {}),
    };
    if (!send(event)) return;
    pendingModifiers.clear();
    drawModifiers();
    if (reading) window.getSelection()?.removeAllRanges();
    lastCode(`Sending ${describeCode(event)}…${skipped.length ? ` (${skipped.join(', ')} does not apply to ${behaviourCode}: left out)` : ''}`);
  };

  const undo = () => {
    if (!canCode || model.status !== 'open') return;
    const target = undoTarget();
    if (!target) {
      panels.error('You have no code to undo.');
      return;
    }
    if (send({ type: 'undo', sessionId, id: newEventId(), target })) lastCode('Withdrawing your last code…');
  };

  const modifierButtons = () => [...room.querySelectorAll<HTMLButtonElement>('button.live-modifier')];
  const drawModifiers = () => {
    for (const b of modifierButtons()) b.setAttribute('aria-pressed', String(pendingModifiers.get(b.dataset.modifierSet ?? '') === b.dataset.modifierValue));
    const line = room.querySelector<HTMLElement>('[data-live="pending-modifiers"]');
    if (line) line.textContent = pendingModifiers.size ? [...pendingModifiers].map(([k, v]) => `${k}: ${v}`).join(', ') : 'none';
  };
  const toggleModifier = (set: string, value: string) => {
    if (pendingModifiers.get(set) === value) pendingModifiers.delete(set);
    else pendingModifiers.set(set, value);
    drawModifiers();
  };

  installKeyboard(
    {
      behaviourFor: (key) => byHotkey.get(key) ?? null,
      code,
      modifier(digit) {
        const button = modifierButtons().find((b) => b.dataset.digit === digit);
        if (!button) return false;
        toggleModifier(button.dataset.modifierSet ?? '', button.dataset.modifierValue ?? '');
        return true;
      },
      undo,
      clear() {
        window.getSelection()?.removeAllRanges();
        pendingModifiers.clear();
        drawModifiers();
      },
    },
    () => canCode && joinedOnce && model.status === 'open',
  );

  // Buttons do what their keys do; pressing one keeps the text selection (so a selected span can be coded).
  room.querySelectorAll<HTMLButtonElement>('button.live-behaviour, button.live-modifier').forEach((b) => b.addEventListener('mousedown', (e) => e.preventDefault()));
  room.querySelectorAll<HTMLButtonElement>('button.live-behaviour').forEach((b) => b.addEventListener('click', () => code(b.dataset.code ?? '')));
  for (const b of modifierButtons()) b.addEventListener('click', () => toggleModifier(b.dataset.modifierSet ?? '', b.dataset.modifierValue ?? ''));
  room.querySelector<HTMLButtonElement>('[data-live="undo"]')?.addEventListener('click', undo);

  showOthersBox?.addEventListener('change', () => {
    const dirty = cleanDirty();
    dirty.structure = dirty.codes = true;
    render(dirty);
  });

  if (canPrompt) {
    const form = room.querySelector<HTMLFormElement>('[data-live="prompt-form"]');
    const input = room.querySelector<HTMLTextAreaElement>('[data-live="prompt-input"]');
    form?.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!input || !input.value.trim()) return;
      if (model.answering()) {
        panels.error('The model is still answering: wait for it, or stop it first.');
        return;
      }
      if (send({ type: 'prompt', sessionId, id: newEventId(), text: input.value })) input.value = '';
    });
    input?.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form?.requestSubmit();
      }
    });
    room.querySelector<HTMLButtonElement>('[data-live="stop"]')?.addEventListener('click', () => send({ type: 'stop', sessionId, id: newEventId() }));
  }

  if (canComment) {
    const form = room.querySelector<HTMLFormElement>('[data-live="comment-form"]');
    const input = room.querySelector<HTMLTextAreaElement>('[data-live="comment-input"]');
    form?.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!input || !input.value.trim()) return;
      if (send({ type: 'comment', sessionId, id: newEventId(), text: input.value })) input.value = '';
    });
    input?.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form?.requestSubmit();
      }
    });
  }

  document.querySelectorAll<HTMLButtonElement>('button[data-copy]').forEach((button) =>
    button.addEventListener('click', async () => {
      const field = document.getElementById(button.dataset.copy ?? '') as HTMLInputElement | null;
      if (!field) return;
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
        button.textContent = 'Copied';
      } catch {
        button.textContent = 'Press Ctrl+C to copy';
      }
    }),
  );

  drawModifiers();
  void connection.start();
}
