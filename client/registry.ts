/** Enhancers by name: each page element marked `data-enhance="name"` gets the named enhancer. */
const enhancers: Record<string, (el: HTMLElement) => void> = {};

export function enhance(name: string, fn: (el: HTMLElement) => void): void {
  enhancers[name] = fn;
}

export function runEnhancers(root: ParentNode = document): void {
  root.querySelectorAll<HTMLElement>('[data-enhance]').forEach((el) => {
    for (const name of (el.dataset.enhance ?? '').split(/\s+/)) enhancers[name]?.(el);
  });
}
