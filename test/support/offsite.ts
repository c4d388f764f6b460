import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { execa } from 'execa';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { startRedis, type DisposableRedis } from '../../scripts/harness/redis-server.ts';
import { offsiteTools, startStore, type OffsiteStore, type StoreKind } from '../../scripts/harness/offsite-store.ts';
import { writeMixedDataset } from '../../scripts/redis/dataset.ts';
import { runCli, type CliRun } from './run-cli.ts';

/** The repository password of the offsite tests (never to appear in any output). */
export const REPO_PASSWORD = 'offsite repo secret c91e';

/** What an offsite test works with; `await using` stops the store and the server and removes the temp dir. */
export interface OffsiteBench extends AsyncDisposable {
  store: OffsiteStore;
  redis: DisposableRedis;
  /** A temp dir of the test. */
  work: string;
  /** The file holding {@link REPO_PASSWORD}. */
  passwordFile: string;
  /** The CLI's environment: the store's login and restic on PATH. */
  env: Record<string, string>;
  /** restic itself, for what the CLI would refuse to do (a snapshot of a tampered folder). */
  restic: string;
  /** The backup dir, and one backup in it taken through the CLI. */
  backups: string;
  backup: string;
  /** `redis-playbook ARGS` in that environment. */
  cli: (args: string[]) => Promise<CliRun>;
}

/**
 * A store on loopback (`kind`: REST, the default, or S3), a server (with `password` when given) with a mixed dataset (and `extra`
 * keys written first), and one
 * backup of it; undefined (the test skipped) when restic or rclone is missing and not required.
 */
export async function offsiteBench(
  t: TestContext,
  { extra, password, kind = 'rest' }: { extra?: (redis: DisposableRedis) => Promise<void>; password?: string; kind?: StoreKind } = {},
): Promise<OffsiteBench | undefined> {
  let tools: ReturnType<typeof offsiteTools>;
  try {
    tools = offsiteTools();
  } catch (error) {
    if ((error as { status?: string }).status !== 'skipped') throw error;
    t.skip((error as Error).message);
    return undefined;
  }
  const store = await startStore(kind);
  const work = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}offsite-`));
  const redis = await startRedis({ config: { appendonly: 'no', save: '' }, ...(password ? { password } : {}) });
  const passwordFile = join(work, 'restic-password');
  await writeFile(passwordFile, `${REPO_PASSWORD}\n`, { mode: 0o600 });
  const env = { ...store.env, ...(password ? { REDISCLI_AUTH: password } : {}), PATH: `${dirname(tools.restic)}:${process.env.PATH}` };
  const cli = (args: string[]) => runCli(args, env, { timeoutMs: 180_000 });
  await redis.withClient((client) => writeMixedDataset(client, 'A', 20));
  if (extra) await extra(redis);
  const backups = join(work, 'backups');
  const made = await cli(['backup', '--url', redis.url, '--to', backups, '--json']);
  assert.equal(made.exitCode, 0, made.stderr);
  const backup = (JSON.parse(made.stdout) as { path: string }).path;
  return {
    store,
    redis,
    work,
    passwordFile,
    env,
    restic: tools.restic,
    backups,
    backup,
    cli,
    async [Symbol.asyncDispose]() {
      await redis[Symbol.asyncDispose]();
      await store[Symbol.asyncDispose]();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** Runs restic itself against `repository` with the bench's password file (in its environment). */
export async function rawRestic(bench: OffsiteBench, repository: string, args: string[]): Promise<string> {
  const result = await execa(bench.restic, ['--no-cache', ...args], {
    env: { ...bench.env, RESTIC_REPOSITORY: repository, RESTIC_PASSWORD_FILE: bench.passwordFile },
    stdin: 'ignore',
  });
  return result.stdout;
}
