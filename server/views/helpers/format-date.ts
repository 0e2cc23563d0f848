/** `{{formatDate d}}`: an ISO date as "2026-11-26"; `{{formatDate d "datetime"}}` adds the UTC time. */
export function formatDate(value: unknown, style?: unknown): string {
  if (!value) return '';
  const d = value instanceof Date ? value : new Date(String(value));
  if (Number.isNaN(d.getTime())) return '';
  const iso = d.toISOString();
  return style === 'datetime' ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : iso.slice(0, 10);
}
