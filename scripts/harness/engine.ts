/** Engines (their programs, lookup by id or by server program) live below the harness: scripts/engines/engine.ts. */
export * from '../engines/engine.ts';
