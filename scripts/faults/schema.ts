import { z } from 'zod';

/** The groups of the "Faults tried" page, in its order. */
export const FaultAreaSchema = z.enum([
  'Disk and files',
  'Interrupted work',
  'Concurrency',
  'Connections',
  'Hostile backups',
  'Rewind',
  'Load',
]);
export type FaultArea = z.infer<typeof FaultAreaSchema>;

/**
 * One fault an integration test made happen to the CLI on a real server, and what the CLI did: written
 * by the test when all its assertions held (test/support/faults.ts), read by the "Faults tried" page.
 */
export const FaultResultSchema = z.object({
  /** Stable id of the case (file name of its record, `backup-disk-full.refused-before-copying`). */
  id: z.string().regex(/^[a-z0-9.-]+$/),
  /** Which group of the page it belongs to. */
  area: FaultAreaSchema,
  /** What was done to the CLI, the machine or the input ("backup into a 2 MB disk"). */
  fault: z.string().min(1),
  /** What the CLI did, as the test asserted it ("refused before copying: needs 7.1 MB, 2.1 MB free"). */
  outcome: z.string().min(1),
  /** The CLI's exit code, when the case ends in one run of it. */
  exitCode: z.number().int().nullable(),
  /** Data lost, as the test measured it: `none` is the only acceptable answer. */
  dataLost: z.literal('none'),
  /** The test that made the fault, and the SHA-256 of its file when it ran: a changed file makes the row stale. */
  test: z.object({ file: z.string(), name: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  /** The server the case ran against (`redis_version` or `valkey_version` of INFO server), when one was used. */
  server: z.string().optional(),
  /** When the test passed (ISO 8601, UTC). */
  at: z.iso.datetime(),
});
export type FaultResult = z.infer<typeof FaultResultSchema>;
