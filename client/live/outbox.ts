import type { ClientEvent } from '../../live/live-events.ts';

/**
 * The events this tab has sent and the server has not acknowledged yet, in order, kept in sessionStorage so a
 * reload or a dropped connection loses none: after reconnecting they are sent again with the same ids (the
 * server stores an event once per id and acknowledges a repeat with the first result).
 */
export class Outbox {
  private readonly key: string;
  private items: ClientEvent[] = [];

  constructor(key: string) {
    this.key = key;
    try {
      const saved = JSON.parse(sessionStorage.getItem(key) ?? '[]') as unknown;
      if (Array.isArray(saved)) this.items = saved.filter((e): e is ClientEvent => typeof e === 'object' && e !== null && typeof (e as ClientEvent).id === 'string');
    } catch {
      this.items = [];
    }
  }

  list(): readonly ClientEvent[] {
    return this.items;
  }

  get size(): number {
    return this.items.length;
  }

  has(id: string): boolean {
    return this.items.some((e) => e.id === id);
  }

  add(event: ClientEvent): void {
    if (this.has(event.id)) return;
    this.items.push(event);
    this.save();
  }

  remove(id: string): void {
    const before = this.items.length;
    this.items = this.items.filter((e) => e.id !== id);
    if (this.items.length !== before) this.save();
  }

  /** "2 codes and 1 comment" (for the status line), or '' when empty. */
  describe(): string {
    const counts = new Map<string, number>();
    for (const e of this.items) {
      const kind = e.type === 'code' ? 'code' : e.type === 'undo' ? 'undo' : e.type;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    const words: Record<string, [string, string]> = {
      code: ['code', 'codes'],
      undo: ['undo', 'undos'],
      comment: ['comment', 'comments'],
      prompt: ['prompt', 'prompts'],
      stop: ['stop', 'stops'],
      end: ['end of session', 'ends of session'],
    };
    const parts = [...counts].map(([k, n]) => `${n} ${(words[k] ?? [k, `${k}s`])[n === 1 ? 0 : 1]}`);
    return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  }

  private save(): void {
    try {
      if (this.items.length) sessionStorage.setItem(this.key, JSON.stringify(this.items));
      else sessionStorage.removeItem(this.key);
    } catch {
      // Storage full or disabled: the events are still held in memory for this page.
    }
  }
}

/** A client-made event id: random, URL-safe; works outside secure contexts too (where randomUUID is missing). */
export function newEventId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
