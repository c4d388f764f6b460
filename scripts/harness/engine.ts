import { z } from 'zod';

/** The programs of one Redis-compatible engine. The harness, not each snippet, knows these names. */
export const EngineSchema = z.object({
  /** Short id used in reports ("redis-7.0"). */
  id: z.string().min(1),
  /** The server program. */
  server: z.string().min(1),
  /** The command-line client. */
  cli: z.string().min(1),
  /** The RDB checker. */
  checkRdb: z.string().min(1),
  /** The AOF checker (takes the manifest path on 7.x). */
  checkAof: z.string().min(1),
});
export type Engine = z.infer<typeof EngineSchema>;

/** Redis from the host's packages (Debian's `redis-server` and `redis-tools`). */
export const hostRedis: Engine = EngineSchema.parse({
  id: 'redis',
  server: 'redis-server',
  cli: 'redis-cli',
  checkRdb: 'redis-check-rdb',
  checkAof: 'redis-check-aof',
});
