import { enhance } from '../registry.ts';

const HEX = /^#[0-9a-f]{6}$/i;

/**
 * Paints behaviour colours, which the page carries as `data-colour` because the CSP forbids `style=` attributes:
 * coded marks get a tinted background and an underline in their behaviour's colour, swatches a fill. Hovering
 * a mark highlights its entries in the codes list, and hovering an entry highlights its marks.
 */
enhance('coding-colours', (root) => {
  root.querySelectorAll<HTMLElement>('[data-colour]').forEach((el) => {
    const colour = el.dataset.colour ?? '';
    if (!HEX.test(colour)) return;
    if (el.matches('mark.coded')) {
      el.style.backgroundColor = `${colour}33`;
      el.style.borderBottomColor = colour;
    } else if (el.matches('.swatch')) {
      el.style.backgroundColor = colour;
    }
  });

  const toggle = (ids: string[], on: boolean) => {
    for (const id of ids) {
      document.getElementById(`coding-${id}`)?.classList.toggle('is-linked', on);
      document.querySelectorAll<HTMLElement>('mark.coded').forEach((mark) => {
        if ((mark.dataset.codingIds ?? '').split(' ').includes(id)) mark.classList.toggle('is-linked', on);
      });
    }
  };
  root.addEventListener('mouseover', (event) => {
    const target = (event.target as Element | null)?.closest?.('mark.coded, li.coding[data-coding-id]') as HTMLElement | null;
    if (!target) return;
    const ids = target.matches('mark') ? (target.dataset.codingIds ?? '').split(' ').filter(Boolean) : [target.dataset.codingId ?? ''];
    toggle(ids, true);
    target.addEventListener('mouseleave', () => toggle(ids, false), { once: true });
  });
});
