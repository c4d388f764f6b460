/** The one error type lives in the core (scripts/core/errors.ts); procedures keep importing it from here. */
export * from '../core/errors.ts';
