/** Free ports come from the core (scripts/core/free-port.ts). */
export * from '../core/free-port.ts';
