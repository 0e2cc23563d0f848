/** What the room does for each key an observer presses. */
export interface KeyActions {
  /** The behaviour with this hotkey, if any. */
  behaviourFor(key: string): string | null;
  code(behaviourCode: string): void;
  /** A number key: the modifier value numbered so (1-9, then 0); false when no value has that number. */
  modifier(digit: string): boolean;
  undo(): void;
  /** Escape: clears the text selection and the modifiers chosen for the next code. */
  clear(): void;
}

const TYPING = 'input, textarea, select, [contenteditable=""], [contenteditable="true"]';

/**
 * BORIS-style coding keys, active anywhere on the page except while typing in a field:
 * a behaviour's hotkey codes it (a point, a state's start or stop, or the selected text); number keys choose
 * modifier values for the next code (with Shift when the digit is also a behaviour's hotkey; Shift+digit always
 * works); Ctrl+Z (Cmd+Z) or Backspace withdraws your last code; Escape clears the selection and modifiers.
 */
export function installKeyboard(actions: KeyActions, enabled: () => boolean): void {
  document.addEventListener('keydown', (event) => {
    if (!enabled() || event.defaultPrevented) return;
    const target = event.target as Element | null;
    if (target?.closest?.(TYPING)) return;
    if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'z') {
      event.preventDefault();
      actions.undo();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === 'Escape') {
      actions.clear();
      return;
    }
    if (event.key === 'Backspace') {
      event.preventDefault();
      actions.undo();
      return;
    }
    if (event.repeat) return;
    const digit = /^Digit(\d)$/.exec(event.code)?.[1] ?? /^Numpad(\d)$/.exec(event.code)?.[1];
    if (event.shiftKey) {
      if (digit && actions.modifier(digit)) event.preventDefault();
      return;
    }
    const key = event.key.length === 1 ? event.key.toLowerCase() : '';
    if (!key) return;
    const behaviour = actions.behaviourFor(key);
    if (behaviour) {
      event.preventDefault();
      actions.code(behaviour);
      return;
    }
    if (/^\d$/.test(key) && actions.modifier(key)) event.preventDefault();
  });
}
