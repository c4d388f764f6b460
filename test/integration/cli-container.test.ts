import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { dockerSkip } from '../../scripts/harness/docker/available.ts';
import { composeCommand, startComposeProject } from '../../scripts/harness/docker/compose.ts';
import { startRedisContainer, type RedisContainer } from '../../scripts/harness/docker/container.ts';
import { docker } from '../../scripts/harness/docker/exec.ts';
import { ensureImage } from '../../scripts/harness/docker/image.ts';
import { engineById, engineUnavailableReason } from '../../scripts/harness/engine.ts';
import { listByPrefix } from '../../scripts/harness/docker/list.ts';
import { InspectReportSchema } from '../../scripts/procedures/inspect-report.ts';
import { BackupManifestSchema, type BackupManifest } from '../../scripts/procedures/manifest.ts';
import { changeMixedDataset, diffDatasets, readDataset, writeMixedDataset } from '../../scripts/redis/dataset.ts';
import { assertOneLineFailure, runCli } from '../support/run-cli.ts';
import { requireAll } from '../../scripts/harness/require-all.ts';

// Skipped with "Docker not available here" where Docker is missing; with PLAYBOOK_REQUIRE_ALL=1 they run and fail.
const skip = await dockerSkip();
/** The Redis 8.0 image is built from the fetched engine (npm run engines); missing: skipped, a failure under PLAYBOOK_REQUIRE_ALL=1. */
const redis8Missing = requireAll() ? undefined : engineUnavailableReason('redis-8.0');

/** A password no other process on this machine has in its argv by chance. */
const PASSWORD = `pw ${randomBytes(6).toString('hex')} staple`;
const AUTH = { REDISCLI_AUTH: PASSWORD };
/** The CLI does several docker commands in a row; on a busy machine each takes a while. */
const SLOW = { timeoutMs: 180_000 };

/**
 * Samples every process's argv (/proc/PID/cmdline) until stopped: the ones holding `secret`, and how
 * many `docker exec -e REDISCLI_AUTH …` were seen (proof that the sampling caught the CLI at work).
 */
function watchArgv(secret: string) {
  const seen = { leaks: [] as string[], dockerExecs: 0 };
  const state = { running: true };
  const loop = (async () => {
    while (state.running) {
      for (const pid of await readdir('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        if (argv.includes(secret)) seen.leaks.push(argv.replace(/\0/g, ' '));
        if (argv.startsWith('docker\0exec\0-e\0REDISCLI_AUTH\0')) seen.dockerExecs++;
      }
      await sleep(2);
    }
  })();
  return async () => {
    state.running = false;
    await loop;
    return seen;
  };
}

async function backupThrough(args: string[], to: string, options: { cwd?: string; env?: Record<string, string> } = {}) {
  const run = await runCli(['backup', ...args, '--to', to, '--json'], { ...AUTH, ...options.env }, { ...SLOW, cwd: options.cwd });
  assert.equal(run.exitCode, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { path: string; manifest: BackupManifest };
  return { run, path: result.path, manifest: BackupManifestSchema.parse(result.manifest) };
}

/** `ls -A` of a dir inside the container (running or not: a throwaway on its volumes). */
async function listInVolume(redis: RedisContainer, dir: string): Promise<string[]> {
  const { stdout } = await docker(['run', '--rm', '--network', 'none', '-v', `${redis.volume}:/data`, redis.image, 'ls', '-A', dir]);
  return stdout.split('\n').filter(Boolean).sort();
}

/** TTLs count down while the test runs: allow what has passed since the dataset was read, and 5 s more. */
function since(readAt: number): number {
  return Date.now() - readAt + 5_000;
}

async function startedAt(name: string): Promise<string> {
  return (await docker(['container', 'inspect', '--format', '{{.State.StartedAt}}', name])).stdout.trim();
}

test('inspect --container reports the data dir inside the container and its AOF files', { skip }, async () => {
  await using redis = await startRedisContainer({ password: PASSWORD, config: { appendonly: 'yes', save: '3600 1' } });
  await redis.cli(['SET', 'greeting', 'hello']);
  const run = await runCli(['inspect', '--container', redis.name, '--json'], AUTH, SLOW);
  assert.equal(run.exitCode, 0, run.stderr);
  const report = InspectReportSchema.parse(JSON.parse(run.stdout));
  assert.equal(report.container, redis.name);
  assert.equal(report.url, 'redis://127.0.0.1:6379');
  assert.equal(report.dir, '/data');
  assert.equal(report.appendonly, true);
  assert.equal(report.keys, 1);
  assert.ok(report.files.readable, JSON.stringify(report.files));
  assert.equal(report.files.aofDir, '/data/appendonlydir');
  assert.deepEqual(
    report.files.aofFiles?.map((file) => file.name),
    ['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest'],
  );
  assert.ok(report.files.aofFiles.every((file) => file.path.startsWith('/data/appendonlydir/') && file.size >= 0));

  const human = await runCli(['inspect', '--container', redis.name], AUTH, SLOW);
  assert.equal(human.exitCode, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`at redis://127\\.0\\.0\\.1:6379 in container ${redis.name} `));
  assert.match(human.stdout, /^ {2}dir {19}\/data$/m);
  assert.match(human.stdout, /appendonly\.aof\.1\.incr\.aof/);
  assert.doesNotMatch(run.stdout + run.stderr + human.stdout + human.stderr, new RegExp(PASSWORD));
});

test('a missing container, a stopped one, and a wrong or missing password: one line each, with their exit codes', { skip }, async () => {
  await using redis = await startRedisContainer({ password: PASSWORD, config: { appendonly: 'no' } });
  const missing = `${redis.name}-missing`;
  assertOneLineFailure(await runCli(['inspect', '--container', missing], AUTH, SLOW), 9, new RegExp(`There is no container "${missing}"`));
  assertOneLineFailure(
    await runCli(['backup', '--container', missing, '--to', join(redis.root, 'b')], AUTH, SLOW),
    9,
    /There is no container/,
  );
  assertOneLineFailure(
    await runCli(['inspect', '--container', redis.name], {}, SLOW),
    4,
    /requires a password: give it in the REDISCLI_AUTH/,
  );
  const wrong = await runCli(['inspect', '--container', redis.name], { REDISCLI_AUTH: 'not the password' }, SLOW);
  assertOneLineFailure(wrong, 4, /wrong password for the default user/);
  assert.doesNotMatch(wrong.stderr, /not the password/);
  assertOneLineFailure(await runCli(['inspect', '--container', redis.name, '--compose-service', 'redis'], AUTH), 2, /not both/);
  await redis.stop();
  assertOneLineFailure(
    await runCli(['inspect', '--container', redis.name], AUTH, SLOW),
    3,
    /the container is exited \(start it: docker start/,
  );
});

test('backup --container writes a complete backup that check passes; the password is in no argv and no output', { skip }, async () => {
  await using redis = await startRedisContainer({ password: PASSWORD, config: { appendonly: 'yes', save: '3600 1' } });
  await redis.withClient((client) => writeMixedDataset(client, 'A', 20));
  const stopWatching = watchArgv(PASSWORD);
  const { run, path, manifest } = await backupThrough(['--container', redis.name], join(redis.root, 'backups'));
  const argv = await stopWatching();
  assert.deepEqual(argv.leaks, [], 'no process had the password in its argv');
  assert.ok(argv.dockerExecs > 0, "the sampling saw the CLI's docker exec commands");

  assert.equal(manifest.source.container, redis.name);
  assert.equal(manifest.config.dir, '/data');
  assert.equal(manifest.config.appendonly, true);
  assert.deepEqual(manifest.keyspace, { 0: { keys: 101, expires: 1 }, 1: { keys: 1, expires: 0 } });
  assert.deepEqual(manifest.files.map((file) => file.path).sort(), [
    'appendonlydir/appendonly.aof.1.base.rdb',
    'appendonlydir/appendonly.aof.1.incr.aof',
    'appendonlydir/appendonly.aof.manifest',
    'dump.rdb',
  ]);
  assert.ok(manifest.checks.rdb.ok && manifest.checks.aof?.ok);
  const check = await runCli(['check', path]);
  assert.equal(check.exitCode, 0, check.stdout + check.stderr);
  const manifestText = await readFile(join(path, 'manifest.json'), 'utf8');
  assert.doesNotMatch(run.stdout + run.stderr + manifestText, new RegExp(PASSWORD));
});

test(
  "rollback in a container: restore --container stops it, installs the backup into its volume, starts it, and the data is the backup's key by key",
  { skip },
  async () => {
    await using redis = await startRedisContainer({ password: PASSWORD, config: { appendonly: 'yes', save: '3600 1' } });
    // The official images keep /data owned by the redis user (uid 999): the installed files must follow.
    await docker(['exec', redis.name, 'chown', '-R', '999:999', '/data']);
    await redis.withClient((client) => writeMixedDataset(client, 'A', 20));
    const a = await redis.withClient(readDataset);
    const readAt = Date.now();
    const { path } = await backupThrough(['--container', redis.name], join(redis.root, 'backups'));
    await redis.withClient((client) => changeMixedDataset(client, 'A', 'B'));
    assert.notDeepEqual(diffDatasets(a, await redis.withClient(readDataset)), [], 'the dataset changed');
    const before = await startedAt(redis.name);

    const stopWatching = watchArgv(PASSWORD);
    const run = await runCli(['restore', path, '--container', redis.name, '--json'], AUTH, SLOW);
    const argv = await stopWatching();
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(argv.leaks, []);
    const result = JSON.parse(run.stdout) as {
      container: string;
      dataDir: string;
      installed: string[];
      movedAside: string;
      moved: string[];
      appendonly: boolean;
    };
    assert.equal(result.container, redis.name);
    assert.equal(result.dataDir, '/data');
    assert.equal(result.appendonly, true);
    assert.deepEqual(result.installed, ['dump.rdb', 'appendonlydir']);
    assert.deepEqual(result.moved.sort(), ['appendonlydir', 'dump.rdb']);
    assert.match(result.movedAside, /^\/data\/pre-restore-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
    assert.match(run.stderr, /stopping container .*\n.*installing the backup into \/data/);
    assert.doesNotMatch(run.stdout + run.stderr, new RegExp(PASSWORD));

    assert.equal(await redis.isRunning(), true, 'the CLI started the container again');
    assert.notEqual(await startedAt(redis.name), before, 'it was restarted');
    assert.deepEqual(diffDatasets(a, await redis.withClient(readDataset), since(readAt)), []);
    assert.deepEqual(await redis.withClient((client) => client.config('GET', 'appendonly')), ['appendonly', 'yes']);
    assert.match(
      (await redis.exec(['stat', '-c', '%u:%g %n', '/data/dump.rdb', '/data/appendonlydir'])).stdout,
      /^999:999 \/data\/dump\.rdb\n999:999 \/data\/appendonlydir$/,
    );

    // The previous files are in the volume, under pre-restore-*: the undo.
    assert.deepEqual(await listInVolume(redis, result.movedAside), ['appendonlydir', 'dump.rdb']);
    assert.ok((await listInVolume(redis, `${result.movedAside}/appendonlydir`)).includes('appendonly.aof.manifest'));
    assert.deepEqual(
      (await listInVolume(redis, '/data')).filter((name) => name.startsWith('.restore-')),
      [],
      'no staging dir is left',
    );
    assert.deepEqual((await listByPrefix('redis-playbook-restore-')).containers, [], 'the throwaway containers are gone');

    // A restart loads the same data: the installed AOF dir holds it, not only dump.rdb.
    await redis.stop();
    await redis.start();
    assert.deepEqual(diffDatasets(a, await redis.withClient(readDataset), since(readAt)), []);
  },
);

test(
  "a Redis 8.0 container on a host with Redis 7.0: backup and restore --container check with the container's own engine; check on the host refuses the RDB 12 naming both formats",
  { skip: skip || redis8Missing || false },
  async () => {
    const redis8 = engineById('redis-8.0');
    const { tag } = await ensureImage(redis8);
    await using redis = await startRedisContainer(
      { password: PASSWORD, config: { appendonly: 'yes', save: '3600 1' } },
      { image: tag, engine: redis8 },
    );
    await redis.withClient((client) => writeMixedDataset(client, 'A', 20));
    const a = await redis.withClient(readDataset);
    const readAt = Date.now();
    const { path, manifest } = await backupThrough(['--container', redis.name], join(redis.root, 'backups'));
    assert.equal(manifest.source.version, '8.0.2');
    assert.equal(manifest.source.rdbVersion, 12);
    assert.ok(manifest.checks.rdb.ok && manifest.checks.aof?.ok, "checked by the image's redis-check-rdb 8.0.2");

    // This machine's redis-check-rdb 7.0 cannot read RDB 12: a plain check says so; for the container it passes.
    const onHost = await runCli(['check', path]);
    assert.equal(onHost.exitCode, 7, onHost.stdout + onHost.stderr);
    assert.match(onHost.stdout, /FAIL +RDB format: backup has RDB format 12 \(Redis 8\.0\), redis-server 7\.0\.15 loads up to 10/);
    const forContainer = await runCli(['check', path, '--container', redis.name], {}, SLOW);
    assert.equal(forContainer.exitCode, 0, forContainer.stdout + forContainer.stderr);

    await redis.withClient((client) => changeMixedDataset(client, 'A', 'B'));
    const run = await runCli(['restore', path, '--container', redis.name, '--json'], AUTH, SLOW);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(diffDatasets(a, await redis.withClient(readDataset), since(readAt)), []);
    assert.match(await redis.withClient((client) => client.info('server')), /redis_version:8\.0\.2/);
  },
);

test(
  'restore --container refuses a bad backup before stopping anything, a container that does not exist, and data outside a volume',
  { skip },
  async () => {
    await using redis = await startRedisContainer({ config: { appendonly: 'yes' } });
    await redis.withClient((client) => writeMixedDataset(client, 'A', 5));
    const { path } = await backupThrough(['--container', redis.name], join(redis.root, 'backups'));
    const rdb = join(path, 'dump.rdb');
    const bytes = await readFile(rdb);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0x5a;
    await writeFile(rdb, bytes);
    const before = await startedAt(redis.name);
    assertOneLineFailure(await runCli(['restore', path, '--container', redis.name], {}, SLOW), 7, /Refusing to restore .*dump\.rdb sha256/);
    assert.equal(await redis.isRunning(), true);
    assert.equal(await startedAt(redis.name), before, 'the container was not stopped');
    assertOneLineFailure(await runCli(['restore', path, '--container', `${redis.name}-missing`], {}, SLOW), 9, /There is no container/);

    // A container keeping /data in its own layer (no volume): refused, and left running.
    const bare = `${redis.name}-novolume`;
    await docker(['run', '--detach', '--name', bare, '--network', 'none', redis.image, 'redis-server']);
    try {
      const good = (await backupThrough(['--container', redis.name], join(redis.root, 'backups'))).path;
      assertOneLineFailure(
        await runCli(['restore', good, '--container', bare], {}, SLOW),
        8,
        /\/data of container .* is not on a volume or bind mount/,
      );
      assert.equal((await docker(['container', 'inspect', '--format', '{{.State.Status}}', bare])).stdout.trim(), 'running');
    } finally {
      await docker(['rm', '--force', '--volumes', bare]);
    }
  },
);

test("--compose-service: backup and rollback of the service's container, found from the project dir", { skip }, async () => {
  await using project = await startComposeProject({ password: PASSWORD, config: { appendonly: 'yes', save: '3600 1' } });
  const where = { cwd: project.projectDir, env: project.composeEnv };
  await project.withClient((client) => writeMixedDataset(client, 'A', 10));
  const a = await project.withClient(readDataset);
  const readAt = Date.now();
  const { path, manifest } = await backupThrough(['--compose-service', project.service], join(project.root, 'backups'), where);
  assert.equal(manifest.source.container, project.name);
  await project.withClient((client) => changeMixedDataset(client, 'A', 'B'));

  const run = await runCli(
    ['restore', path, '--compose-service', project.service],
    { ...AUTH, ...project.composeEnv },
    { ...SLOW, cwd: project.projectDir },
  );
  assert.equal(run.exitCode, 0, run.stderr);
  assert.match(
    run.stdout,
    new RegExp(`into /data of container ${project.name} .*\\n.*pre-restore-.*your undo\\.\\nContainer ${project.name} is running again`),
  );
  // It says which Compose found the service: v2 where Docker has the plugin, else v1.
  const compose = await composeCommand();
  assert.ok(
    run.stderr.includes(
      `Compose service ${project.service}: container ${project.name} (found with ${compose.join(' ')}, Compose ${compose[0] === 'docker' ? 'v2' : 'v1'})`,
    ),
    run.stderr,
  );
  assert.deepEqual(diffDatasets(a, await project.withClient(readDataset), since(readAt)), []);

  assertOneLineFailure(
    await runCli(['inspect', '--compose-service', 'cache'], { ...AUTH, ...project.composeEnv }, { ...SLOW, cwd: project.projectDir }),
    9,
    /The Compose project in .* has no service "cache" \(its services: redis\)/,
  );
});
