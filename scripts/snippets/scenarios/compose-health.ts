import assert from 'node:assert/strict';
import { startComposeProject, type ComposeRedis } from '../../harness/docker/compose.ts';
import { docker, dockerTry } from '../../harness/docker/exec.ts';
import { waitFor } from '../../harness/wait.ts';
import type { VerifyContext } from '../schema.ts';
import { composeFile } from '../pages/where-is-my-data.ts';

/** The healthcheck's timing: a check every 5 s, unhealthy after 2 failed ones in a row. */
const HEALTH_INTERVAL_SECONDS = 5;
const HEALTH_RETRIES = 2;

/**
 * The seed's compose file with a healthcheck that fails when Redis does not answer PONG, or when its
 * last snapshot or its last AOF write failed (INFO persistence), as the page shows it.
 */
export const healthcheckComposeFile = (() => {
  const volumes = '    volumes:\n      - redis-data:/data\n';
  assert.ok(composeFile.includes(volumes), 'the seed compose file mounts redis-data at /data');
  const healthcheck = [
    '    healthcheck:',
    '      # Unhealthy when Redis does not answer PONG, or its last snapshot or AOF write failed',
    `      test: ["CMD-SHELL", "redis-cli ping | grep -q PONG && ! redis-cli info persistence | grep -Eq '^(rdb_last_bgsave_status|aof_last_write_status):err'"]`,
    `      interval: ${HEALTH_INTERVAL_SECONDS}s`,
    '      timeout: 3s',
    `      retries: ${HEALTH_RETRIES}`,
    '      start_period: 30s',
    '',
  ].join('\n');
  return composeFile.replace(volumes, `${volumes}${healthcheck}`);
})();

/** Unique names of the project, filled into the file. */
type Names = Record<'project' | 'container' | 'volume' | 'service', string>;

/** `docker inspect`'s health status of the container. */
export async function healthStatus(container: string): Promise<string> {
  return (await dockerTry(['inspect', '--format', '{{.State.Health.Status}}', container])).stdout.trim();
}

/** Waits until the container's health is `status`; returns the seconds it took from `since` (performance.now()). */
async function healthBecomes(container: string, status: string, since: number, timeoutMs: number): Promise<number> {
  await waitFor(async () => (await healthStatus(container)) === status, {
    what: `container ${container} to be ${status}`,
    timeoutMs,
    intervalMs: 200,
  });
  return Math.round((performance.now() - since) / 100) / 10;
}

/** Starts the project of the page's file (`ctx.command` or the filled {@link healthcheckComposeFile}) and waits until healthy. */
export async function startHealthchecked(ctx: VerifyContext<unknown>, file: string): Promise<ComposeRedis> {
  const { project, container, volume, service } = ctx.values as Names;
  const redis = await startComposeProject({}, { file, names: { project, container, volume, service }, image: ctx.values.image });
  try {
    await healthBecomes(container, 'healthy', performance.now(), 60_000);
  } catch (error) {
    await redis.dispose();
    throw error;
  }
  return redis;
}

/**
 * The drill: a healthy container; /data given to root (Redis runs as uid 999) and a BGSAVE that
 * fails while writes are still accepted (PING answers PONG): unhealthy after two checks; `run` shows the status; /data given back and a BGSAVE that
 * succeeds: healthy again at the next check. Measures both delays.
 */
export async function healthDrill(ctx: VerifyContext<unknown>, redis: ComposeRedis, run: () => Promise<string>): Promise<void> {
  const container = redis.name;
  ctx.note('# started:');
  assert.equal(await run(), 'healthy');
  // Writes go on despite the failed save, so PING answers PONG: only the INFO check can see it.
  assert.equal((await redis.cli(['CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'no'])).stdout.trim(), 'OK');
  await docker(['exec', '--user', 'root', container, 'chown', '0:0', '/data']);
  assert.match((await redis.cli(['BGSAVE'])).stdout, /Background saving started/);
  await waitFor(async () => (await redis.info('persistence')).persistence?.rdb_last_bgsave_status === 'err', {
    what: 'the BGSAVE to fail',
    timeoutMs: 15_000,
  });
  const failedAt = performance.now();
  const allowed = HEALTH_INTERVAL_SECONDS * (HEALTH_RETRIES + 1);
  const unhealthyAfter = await healthBecomes(container, 'unhealthy', failedAt, allowed * 1000 + 10_000);
  assert.ok(
    unhealthyAfter <= allowed,
    `unhealthy ${unhealthyAfter} s after the failed save: within ${HEALTH_RETRIES} checks and the one running (${allowed} s)`,
  );
  ctx.measure('unhealthyAfterSeconds', unhealthyAfter);
  ctx.note('# after a failed BGSAVE (PING still answers PONG):');
  assert.equal(await run(), 'unhealthy');
  assert.equal((await redis.cli(['PING'])).stdout.trim(), 'PONG', 'unhealthy through INFO persistence alone');
  // With stop-writes-on-bgsave-error yes (the default) PING itself answers MISCONF instead.
  assert.equal((await redis.cli(['CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'yes'])).stdout.trim(), 'OK');
  assert.match((await redis.cli(['PING'])).stdout, /^MISCONF /);

  await docker(['exec', '--user', 'root', container, 'sh', '-c', 'chown "$(stat -c %u:%g /proc/1)" /data']);
  assert.match((await redis.cli(['BGSAVE'])).stdout, /Background saving started/);
  await waitFor(async () => (await redis.info('persistence')).persistence?.rdb_last_bgsave_status === 'ok', {
    what: 'the BGSAVE to succeed',
    timeoutMs: 15_000,
  });
  const healthyAfter = await healthBecomes(container, 'healthy', performance.now(), HEALTH_INTERVAL_SECONDS * 1000 + 10_000);
  assert.ok(healthyAfter <= HEALTH_INTERVAL_SECONDS + 1, `healthy again ${healthyAfter} s after the good save: at the next check`);
  ctx.measure('healthyAfterSeconds', healthyAfter);
  ctx.measure('intervalSeconds', HEALTH_INTERVAL_SECONDS);
  ctx.measure('retries', HEALTH_RETRIES);
  ctx.note('# after the fix and a good BGSAVE:');
  assert.equal(await run(), 'healthy');
}
