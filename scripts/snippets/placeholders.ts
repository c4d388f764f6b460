/** Placeholders are data the site reads too: scripts/data/placeholders.ts. */
export * from '../data/placeholders.ts';
