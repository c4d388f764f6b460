/** The disposable server is the procedures' scratch server (scripts/procedures/scratch-server.ts), reused by the harness. */
export * from '../procedures/scratch-server.ts';
