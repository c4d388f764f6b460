/** Server identities are data the site reads too: scripts/data/identity.ts. */
export * from '../data/identity.ts';
