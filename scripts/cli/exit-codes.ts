/** The exit codes live in the core (scripts/core/exit-codes.ts); the CLI's name for them stays. */
export * from '../core/exit-codes.ts';
