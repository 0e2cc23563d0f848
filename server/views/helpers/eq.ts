/** `{{#if (eq a b)}}`: strict equality. */
export const eq = (a: unknown, b: unknown) => a === b;
