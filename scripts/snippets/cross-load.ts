/** The cross-load table's schema is data the site reads too: scripts/data/cross-load.ts. */
export * from '../data/cross-load.ts';
