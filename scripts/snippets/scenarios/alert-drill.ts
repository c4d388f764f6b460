import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { outsideCancel } from '../../core/cancel.ts';
import { exec } from '../exec.ts';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { UnavailableHere } from '../../harness/require-all.ts';
import { drillRulesText } from '../../harness/prometheus/rules.ts';
import { monitoringUnavailableReason, startMonitoring, type DisposableMonitoring } from '../../harness/prometheus/stack.ts';
import { waitFor } from '../../harness/wait.ts';
import { DisposedAtExit } from '../../harness/exit-hook.ts';
import type { VerifyContext } from '../schema.ts';

/** The drill's `for:` on every rule (the shipped rules wait minutes) and its scrape and evaluation interval. */
export const DRILL_FOR_SECONDS = 5;
export const DRILL_INTERVAL_SECONDS = 1;
/**
 * What the drill's own measuring may add to a delay: a poll every 50 ms, each an HTTP request, on a
 * 2-core machine busy with other checks.
 */
const POLLING_SLACK_SECONDS = 1;

/** The alert the drill makes fire: the last BGSAVE failed. */
export const DRILL_ALERT = 'RedisSnapshotFailing';

/** Seconds since `start` (performance.now()), to a tenth. */
const secondsSince = (start: number) => Math.round((performance.now() - start) / 100) / 10;

/** Fails when `secret` is in a monitoring process's command line, its logs, the exporter's metrics or Prometheus's targets. */
async function assertSecretHidden(monitoring: DisposableMonitoring, secret: string): Promise<void> {
  for (const pid of monitoring.pids) {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
    assert.ok(!argv.includes(secret), `the password is not in the command line of process ${pid}`);
  }
  assert.ok(!(await monitoring.logs()).includes(secret), "the password is not in the exporter's or Prometheus's log");
  assert.ok(!(await monitoring.metrics()).includes(secret), "the password is not in the exporter's metrics");
  assert.ok(!(await monitoring.targets()).includes(secret), "the password is not in Prometheus's targets");
}

/** BGSAVE, then the status it ended with. */
async function bgsave(server: DisposableRedis): Promise<string> {
  await server.withClient((client) => client.bgsave());
  return waitFor(
    async () => {
      const persistence = (await server.info('persistence')).persistence ?? {};
      return persistence.rdb_bgsave_in_progress === '0' ? persistence.rdb_last_bgsave_status : undefined;
    },
    { what: 'the BGSAVE to end', timeoutMs: 15_000 },
  );
}

/** Dirs made immutable and not yet made writable again: thawed on exit whatever happens, so they can be removed. */
const frozen = new DisposedAtExit<string>((dir) => spawnSync('chattr', ['-i', dir], { stdio: 'ignore' }));

/** Makes the data dir immutable (`chattr +i`): no file can be created in it, by root either, so a snapshot fails. */
async function freeze(dir: string): Promise<void> {
  frozen.add(dir);
  await exec('chattr', ['+i', dir]);
}

/** Makes it writable again, also when the verification's time is up (so outside its bound). */
async function thaw(dir: string): Promise<void> {
  await outsideCancel(() => exec('chattr', ['-i', dir]));
  frozen.delete(dir);
}

/**
 * The live drill: redis_exporter and Prometheus (the shipped rules, every `for:` set to
 * {@link DRILL_FOR_SECONDS}) scrape the disposable server every {@link DRILL_INTERVAL_SECONDS} s; its
 * data dir is made unwritable and a BGSAVE fails; the page's command runs while the alert fires; the
 * dir is fixed and a BGSAVE succeeds; the alert clears. Measures both delays.
 */
export async function alertDrill(ctx: VerifyContext): Promise<void> {
  const reason = monitoringUnavailableReason();
  if (reason) throw new UnavailableHere('The alert drill', reason);
  const server = ctx.server;
  await using monitoring = await startMonitoring({
    target: { host: server.host, port: server.port, password: server.password },
    rules: drillRulesText(DRILL_FOR_SECONDS),
    intervalSeconds: DRILL_INTERVAL_SECONDS,
    dir: join(ctx.scratch, 'monitoring'),
    prometheusPort: Number(new URL(ctx.values.prometheus ?? '').port),
  });
  if (server.password) await assertSecretHidden(monitoring, server.password);
  assert.equal(await monitoring.state(DRILL_ALERT), 'inactive', 'no alert while saves succeed');
  ctx.measure('forSeconds', DRILL_FOR_SECONDS);
  ctx.measure('intervalSeconds', DRILL_INTERVAL_SECONDS);
  const allowed = DRILL_FOR_SECONDS + 2 * DRILL_INTERVAL_SECONDS;

  await freeze(server.dir);
  try {
    assert.equal(await bgsave(server), 'err', 'the snapshot fails on the unwritable data dir');
    const failed = performance.now();
    await waitFor(async () => (await monitoring.state(DRILL_ALERT)) === 'firing', {
      what: `${DRILL_ALERT} to fire`,
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    const firingAfter = secondsSince(failed);
    assert.ok(
      firingAfter <= allowed + POLLING_SLACK_SECONDS,
      `fired ${firingAfter} s after the failed save: within for: ${DRILL_FOR_SECONDS} s and two scrapes (${allowed} s)`,
    );
    ctx.measure('firingAfterSeconds', firingAfter);
    ctx.note('# while the data dir is unwritable (the last BGSAVE failed):');
    const { exitCode, stdout } = await ctx.run();
    assert.equal(exitCode, 0);
    assert.match(
      stdout,
      new RegExp(
        `^ALERTS\\{alertname="${DRILL_ALERT}", alertstate="firing", instance="127\\.0\\.0\\.1:\\d+", job="redis", severity="critical"\\} => 1 @\\[`,
        'm',
      ),
    );
  } finally {
    await thaw(server.dir);
  }

  assert.equal(await bgsave(server), 'ok', 'the snapshot succeeds once the data dir is writable');
  const fixed = performance.now();
  await waitFor(async () => (await monitoring.state(DRILL_ALERT)) === 'inactive', {
    what: `${DRILL_ALERT} to clear`,
    timeoutMs: 30_000,
    intervalMs: 50,
  });
  const clearedAfter = secondsSince(fixed);
  assert.ok(
    clearedAfter <= 2 * DRILL_INTERVAL_SECONDS + POLLING_SLACK_SECONDS,
    `cleared ${clearedAfter} s after the good save: within two scrapes`,
  );
  ctx.measure('clearedAfterSeconds', clearedAfter);
  ctx.note('# after the fix and a good BGSAVE: nothing fires');
  const after = await ctx.run();
  assert.equal(after.exitCode, 0);
  assert.doesNotMatch(after.stdout, /alertstate="firing"/, 'no alert fires after the fix');
  if (server.password) await assertSecretHidden(monitoring, server.password);
}
