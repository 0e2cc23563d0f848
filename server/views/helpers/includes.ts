/** `{{#if (includes list item)}}`: array membership, for checked/selected states. */
export const includes = (list: unknown, item: unknown) => Array.isArray(list) && list.includes(item);
