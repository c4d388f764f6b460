import { mkdir, readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { writeFileAtomic } from '../core/atomic-write.ts';
import { FlavorIdSchema } from './flavors.ts';
import { ServerIdentitySchema } from './identity.ts';

/** The engine a result without `engineId` ran on, and the one whose output a page shows: the host's Redis. */
export const HOST_ENGINE_ID = 'redis-7.0';

/** Where `npm run verify` writes its report and the site reads it. */
export const defaultReportPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'report', 'verify.json');

/** The outcome of one snippet flavor's verification. */
export const ResultSchema = z.object({
  /** Snippet id. */
  id: z.string(),
  /** The flavor verified. */
  flavor: FlavorIdSchema,
  /** Page that shows the snippet. */
  page: z.string(),
  /** The command template that was verified: a badge is only backed while the registry still has this text. */
  command: z.string(),
  /** The label of the flavor's variant that ran instead of its main command on this engine ("Redis 6.0"; scripts/snippets/schema.ts). */
  variant: z.string().optional(),
  /**
   * What was verified (scripts/snippets/fingerprint.ts): command, config, placeholder values, the
   * flavor's setup/verify code and the modules it uses, the engine. The site shows a result only while
   * the registry's fingerprint is the same; a report without one is stale.
   */
  fingerprint: z.string().optional(),
  /** passed: the command did what its verification expects; failed: it did not; skipped: it could not run here. */
  status: z.enum(['passed', 'failed', 'skipped']),
  /** Engine name (`redis` or `valkey`). */
  engine: z.string(),
  /** Engine id of the harness (`redis-7.0`, `valkey-8.1`, …); reports written before the matrix lack it: the host's. */
  engineId: z.string().default(HOST_ENGINE_ID),
  /** The answering server's own version (of {@link server}; before provenance was recorded, the program's `--version`). */
  version: z.string(),
  /** Who answered: INFO server of the server the page's commands reached (or the `--version` line of the one the command ran). */
  server: ServerIdentitySchema.optional(),
  /** Servers of other engines a cross-engine block ran by design (the versions page), each with its engine id. */
  otherServers: z.array(ServerIdentitySchema).optional(),
  /** The image a Docker flavor ran (`redis-playbook/redis:8.0.2` built here, or the official `redis:8.0`). */
  image: z.string().optional(),
  /** Its image ID (`sha256:…`). */
  imageId: z.string().optional(),
  /** official: the engine's official image; local-build: built here from Debian's packages; override: REDIS_PLAYBOOK_IMAGE. */
  imageOrigin: z.enum(['official', 'local-build', 'override']).optional(),
  /** `systemd`: a Host install tab that ran on Debian's packaged Redis under a real systemd (a container). */
  serviceManager: z.literal('systemd').optional(),
  /** The Compose that ran a Compose tab: `docker compose 2.40.3` (v2) or `docker-compose 1.29.2` (v1). */
  compose: z.string().optional(),
  /** Wall time of the verification, milliseconds. */
  durationMs: z.number().nonnegative(),
  /** When it ran (ISO 8601, UTC). */
  verifiedAt: z.iso.datetime(),
  /** Numbers the verification measured, by name (ctx.measure): what a page's <Measured/> renders. */
  measurements: z.record(z.string(), z.number()).optional(),
  /** What the command printed, secrets redacted and temp paths shown as the page's defaults. */
  output: z.string(),
  /** Why it failed or was skipped. */
  error: z.string().optional(),
});
export type Result = z.infer<typeof ResultSchema>;

/** The JSON report of `npm run verify`, read by the site's badges. */
export const ReportSchema = z.object({
  /** When the report was written (ISO 8601, UTC). */
  generatedAt: z.iso.datetime(),
  /** One entry per snippet and flavor. */
  results: z.array(ResultSchema),
});
export type Report = z.infer<typeof ReportSchema>;

/** Reads and validates a report; `undefined` when there is none yet. */
export function loadReportSync(path = defaultReportPath): Report | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return ReportSchema.parse(JSON.parse(text));
}

/** Async twin of {@link loadReportSync}. */
export async function loadReport(path = defaultReportPath): Promise<Report | undefined> {
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  return text === undefined ? undefined : ReportSchema.parse(JSON.parse(text));
}

/** Writes a report atomically (temp file, then rename). */
export async function writeReport(report: Report, path = defaultReportPath): Promise<void> {
  const valid = ReportSchema.parse(report);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(valid, null, 2)}\n`);
}

/** The result for one snippet flavor on one engine (by default the host's), if the report has it. */
export function findResult(report: Report | undefined, id: string, flavor: string, engineId = HOST_ENGINE_ID): Result | undefined {
  return report?.results.find((result) => result.id === id && result.flavor === flavor && result.engineId === engineId);
}

/** Every engine's result for one snippet flavor, in report order. */
export function findResults(report: Report | undefined, id: string, flavor: string): Result[] {
  return report?.results.filter((result) => result.id === id && result.flavor === flavor) ?? [];
}

/** The key a result is replaced by in a partial run: snippet, flavor and engine. */
export function resultKey(result: Pick<Result, 'id' | 'flavor' | 'engineId'>): string {
  return `${result.id}\u0000${result.flavor}\u0000${result.engineId}`;
}
