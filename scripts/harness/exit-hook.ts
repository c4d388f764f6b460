/** Exit hooks and process probes live in the core (scripts/core/exit-hook.ts, scripts/core/processes.ts). */
export * from '../core/exit-hook.ts';
export { processAlive } from '../core/processes.ts';
