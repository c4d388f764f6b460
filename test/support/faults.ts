import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAULTS_DIR, REPO_ROOT, fileSha256 } from '../../scripts/faults/results.ts';
import { FaultResultSchema, type FaultArea } from '../../scripts/faults/schema.ts';
import { flattenInfo, parseInfo } from '../../scripts/redis/info.ts';
import type { Redis } from 'ioredis';

/**
 * A case of the "Faults tried" page. Created at the start of the test (any earlier record of the case
 * is removed, so a failing run never leaves a success behind); `passed` records the outcome once every
 * assertion held.
 */
export async function faultCase(t: { name: string }, testFileUrl: string, id: string, area: FaultArea, fault: string) {
  const path = join(FAULTS_DIR, `${id}.json`);
  await rm(path, { force: true });
  const file = fileURLToPath(testFileUrl);
  return {
    /** Records the case as passed: what the CLI did, its exit code, and the server that answered (see {@link answeringServer}). */
    async passed(outcome: string, exitCode: number | null, server?: string) {
      const record = FaultResultSchema.parse({
        id,
        area,
        fault,
        outcome,
        exitCode,
        dataLost: 'none',
        test: { file: relative(REPO_ROOT, file), name: t.name, sha256: fileSha256(file) },
        ...(server ? { server } : {}),
        at: new Date().toISOString(),
      });
      await mkdir(FAULTS_DIR, { recursive: true });
      await writeFile(path, `${JSON.stringify(record, null, 2)}\n`);
    },
  };
}

/** The server a case ran against, as it names itself in INFO server ("redis 7.0.15", "valkey 8.1.1"). */
export async function answeringServer(redis: { withClient<T>(fn: (client: Redis) => Promise<T>): Promise<T> }): Promise<string> {
  const info = flattenInfo(parseInfo(await redis.withClient((client) => client.info('server'))));
  return `${info.server_name ?? 'redis'} ${info.valkey_version ?? info.redis_version ?? 'unknown'}`;
}

/** Several cases of one test, created (and their old records removed) at its start: `{ id: fault }`. */
export async function faultCases<Id extends string>(t: { name: string }, testFileUrl: string, area: FaultArea, faults: Record<Id, string>) {
  const entries = await Promise.all(
    Object.entries<string>(faults).map(async ([id, fault]) => [id, await faultCase(t, testFileUrl, id, area, fault)] as const),
  );
  return Object.fromEntries(entries) as Record<Id, Awaited<ReturnType<typeof faultCase>>>;
}
