/**
 * Marks the document as enhanced (`<html class="js">`) so the stylesheet can show controls that only work with
 * the bundle (`.js-only`) and hide the no-JavaScript fallbacks (`.no-js-only`).
 */
document.documentElement.classList.add('js');
