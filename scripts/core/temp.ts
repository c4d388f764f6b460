/**
 * The prefix of every temp dir and every Docker object the CLI, the harness, the verifier and the
 * tests create (`redis-playbook-…`): the leftover check (scripts/harness/leftovers.ts) looks for it.
 */
export const TEMP_PREFIX = 'redis-playbook-';
