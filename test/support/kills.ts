import assert from 'node:assert/strict';
import { waitFor } from '../../scripts/harness/wait.ts';
import type { ServerUnderTest } from '../../scripts/procedures/server-under-test.ts';
import { SLOW, startCliChild } from './containers.ts';
import { runCli } from './run-cli.ts';

/** The phases of `backup` a kill test interrupts, as its progress lines start. */
export const BACKUP_PHASES = [
  /^saving/,
  /^copying dump\.rdb/,
  /^checking/,
  /^copying appendonly\.aof\.manifest/,
  /^copying appendonly\.aof\.\d+\.incr\.aof/,
];

/** A million keys, then an AOF rewrite (waited for): a backup of them takes long enough to be killed in each phase. */
export async function populatedForKills(redis: ServerUnderTest): Promise<void> {
  await redis.withClient(async (client) => {
    await client.call('DEBUG', 'POPULATE', 1_000_000, 'key', 40);
    await client.bgrewriteaof();
  });
  await waitFor(async () => (await redis.info('persistence')).persistence?.aof_rewrite_in_progress === '0', {
    what: 'the AOF rewrite',
    timeoutMs: 60_000,
  });
}

/** The backups `backups --to DIR --json` lists, complete or not. */
export async function listedBackups(to: string) {
  const run = await runCli(['backups', '--to', to, '--json']);
  assert.equal(run.exitCode, 0, run.stderr);
  return (JSON.parse(run.stdout) as { backups: { path: string; createdAt?: string; problem?: string }[] }).backups;
}

/** Kills the CLI child once one of its progress lines matches `phase`, and waits for it; false when it ended first. */
export async function killAt(cli: ReturnType<typeof startCliChild>, phase: RegExp): Promise<boolean> {
  await waitFor(() => cli.lines.some((line) => phase.test(line)) || cli.state.exited, {
    what: `the CLI to reach ${phase.source}`,
    timeoutMs: 120_000,
    intervalMs: 5,
  });
  const hit = !cli.state.exited;
  if (hit) cli.child.kill('SIGKILL');
  await cli.child;
  return hit;
}

/**
 * Kills `redis-playbook backup TARGET --to TO` with SIGKILL once in each of {@link BACKUP_PHASES} (a
 * phase a run passed too fast to see is not counted). After each kill: `settle` waits for what the
 * killed run left going, no partial backup is listed as a backup, `afterKill` checks the test's own,
 * and the save the backup started ends. At least three kills must land; then a whole run completes,
 * its backup the only new one listed, and the server's last save is ok. Resolves to the phases hit.
 */
export async function killBackupInEachPhase(
  redis: ServerUnderTest,
  options: {
    /** `--url URL` or `--container NAME`. */
    target: string[];
    to: string;
    /** The CLI's environment (TMPDIR for what a killed run leaves; REDISCLI_AUTH). */
    env: Record<string, string>;
    settle?: () => Promise<void>;
    afterKill?: (phase: RegExp) => Promise<void>;
  },
): Promise<string[]> {
  const { target, to, env } = options;
  const hit: string[] = [];
  for (const phase of BACKUP_PHASES) {
    if (await killAt(startCliChild(['backup', ...target, '--to', to], env), phase)) hit.push(phase.source);
    await options.settle?.();
    // An interrupted run's folder shows as what it is, never as a backup.
    for (const entry of await listedBackups(to)) {
      if (entry.problem === undefined) assert.ok(entry.createdAt, `${entry.path} is listed as a backup without a snapshot time`);
      else assert.match(entry.problem, /incomplete \(in progress, or interrupted\)/);
    }
    await options.afterKill?.(phase);
    await waitFor(async () => (await redis.info('persistence')).persistence?.rdb_bgsave_in_progress === '0', {
      what: 'the save the backup started',
      timeoutMs: 60_000,
    });
  }
  assert.ok(hit.length >= 3, `kills landed in ${hit.join(', ')}`);
  const completes = await runCli(['backup', ...target, '--to', to, '--json'], env, SLOW);
  assert.equal(completes.exitCode, 0, completes.stderr);
  assert.equal(
    (await listedBackups(to)).filter((entry) => entry.problem === undefined).length,
    1 + BACKUP_PHASES.length - hit.length,
    'only complete backups are listed as backups',
  );
  assert.equal((await redis.info('persistence')).persistence?.rdb_last_bgsave_status, 'ok');
  return hit;
}
