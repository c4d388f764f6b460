/** The report's schema and files are a data-only view the site reads: scripts/data/report.ts. */
export * from '../data/report.ts';
