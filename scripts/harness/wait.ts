/** Waiting lives in the core (scripts/core/wait.ts). */
export * from '../core/wait.ts';
