/**
 * Quotes a value for a POSIX shell only when it needs it. A module of its own, free of dependencies,
 * because the site's browser script (src/scripts/your-setup.ts) quotes the reader's values with it.
 */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
