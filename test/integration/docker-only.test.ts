/**
 * A machine with Docker but no `redis-server` (nor any `redis-*` / `valkey-*` program) on the host,
 * simulated with a PATH made of a temp dir of symlinks to everything in /usr/bin, /bin, /usr/sbin and
 * /sbin except those. On it:
 * - `backup --container`, `check --container` and `restore --container` check with the container
 *   image's own redis-check-rdb / redis-check-aof (`docker run --rm`);
 * - `npm run engines` fetches Debian bookworm's Redis 7.0, which `check` without --container, the
 *   host engine and the Docker image (`redis-playbook/redis:7.0.15-bookworm`) are made from;
 * - `npm run verify` passes the Docker flavor of a few snippets.
 * Skipped where Docker is missing; with PLAYBOOK_REQUIRE_ALL=1 it runs and fails there.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { dockerSkip } from '../../scripts/harness/docker/available.ts';
import { startRedisContainer } from '../../scripts/harness/docker/container.ts';
import { ensureImage } from '../../scripts/harness/docker/image.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { containerCheckers } from '../../scripts/procedures/container-checkers.ts';
import { PlaybookError } from '../../scripts/procedures/errors.ts';
import { BackupManifestSchema } from '../../scripts/procedures/manifest.ts';
import { changeMixedDataset, diffDatasets, readDataset, writeMixedDataset } from '../../scripts/redis/dataset.ts';
import { loadReport } from '../../scripts/verify/report.ts';
import { runCli } from '../support/run-cli.ts';

const skip = await dockerSkip();
const projectRoot = join(import.meta.dirname, '..', '..');
const PASSWORD = `pw ${randomBytes(6).toString('hex')} docker-only`;
const SLOW = { timeoutMs: 240_000 };
const SNIPPETS = ['show-save-rules-disabled', 'rollback-cli-aof'];

/** A temp dir removed on dispose, failure or not. */
async function tempDir(tag: string) {
  const path = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}${tag}-`));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** A bin dir of symlinks to every program of the usual dirs except redis-* and valkey-*. */
async function dockerOnlyBin(dir: string): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin);
  for (const source of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    for (const name of await readdir(source).catch(() => [] as string[])) {
      if (/^(redis|valkey)-/.test(name)) continue;
      await symlink(join(source, name), join(bin, name)).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      });
    }
  }
  return bin;
}

test(
  'Docker but no redis-server on the host: backup, check and restore --container, and verify of Docker flavors',
  { skip, timeout: 900_000 },
  async () => {
    await using temp = await tempDir('docker-only');
    const bin = await dockerOnlyBin(temp.path);
    // node_modules/.bin first: it holds Node 24 (`node`), which npm's own scripts run with.
    const PATH = `${join(projectRoot, 'node_modules', '.bin')}:${bin}`;
    const env = { PATH, REDISCLI_AUTH: PASSWORD };
    const which = await execa('sh', ['-c', 'command -v redis-server redis-check-rdb redis-check-aof redis-cli valkey-server'], {
      env: { PATH },
      extendEnv: false,
      reject: false,
    });
    assert.equal(which.stdout.trim(), '', 'the simulated machine has no Redis programs');

    await using redis = await startRedisContainer({ password: PASSWORD, config: { appendonly: 'yes', save: '3600 1' } });
    await redis.withClient((client) => writeMixedDataset(client, 'A', 20));
    const a = await redis.withClient(readDataset);
    const readAt = Date.now();

    // inspect works through docker exec alone.
    const inspected = await runCli(['inspect', '--container', redis.name, '--json'], env, SLOW);
    assert.equal(inspected.exitCode, 0, inspected.stderr);

    // backup --container: checked by the image's own checkers.
    const backups = join(temp.path, 'backups');
    const backed = await runCli(['backup', '--container', redis.name, '--to', backups, '--json'], env, SLOW);
    assert.equal(backed.exitCode, 0, backed.stderr);
    const { path } = JSON.parse(backed.stdout) as { path: string };
    const manifest = BackupManifestSchema.parse((JSON.parse(backed.stdout) as { manifest: unknown }).manifest);
    assert.equal(manifest.checks.rdb.ok, true, JSON.stringify(manifest.checks));
    assert.equal(manifest.checks.aof?.ok, true, JSON.stringify(manifest.checks));
    assert.ok(manifest.files.some((file) => file.path === 'dump.rdb'));
    assert.doesNotMatch(backed.stdout + backed.stderr, new RegExp(PASSWORD));

    // check --container: the same checkers, named in the output.
    const checked = await runCli(['check', path, '--container', redis.name], env, SLOW);
    assert.equal(checked.exitCode, 0, checked.stderr);
    assert.match(checked.stdout, /^ok +\S+\/checkers\/[0-9a-f]+\/redis-check-rdb dump\.rdb: RDB looks OK/m);
    assert.match(checked.stdout, /^ok +\S+\/checkers\/[0-9a-f]+\/redis-check-aof appendonlydir: AOF is valid/m);
    assert.match(checked.stdout, / is good\n$/);

    // restore --container: dataset A, backup, change to B, restore, A key by key.
    await redis.withClient((client) => changeMixedDataset(client, 'A', 'B'));
    assert.notDeepEqual(diffDatasets(a, await redis.withClient(readDataset)), [], 'the dataset changed');
    const restored = await runCli(['restore', path, '--container', redis.name, '--json'], env, SLOW);
    assert.equal(restored.exitCode, 0, restored.stderr);
    assert.equal(await redis.isRunning(), true);
    assert.deepEqual(diffDatasets(a, await redis.withClient(readDataset), Date.now() - readAt + 5_000), []);

    // Without --container: nothing to check with until `npm run engines` fetches bookworm's Redis 7.0.
    const engines = await execa('npm', ['run', '--silent', 'engines'], {
      cwd: projectRoot,
      env: { ...process.env, PATH },
      extendEnv: false,
      reject: false,
      all: true,
      timeout: 600_000,
    });
    assert.equal(engines.exitCode, 0, engines.all);
    const local = await runCli(['check', path], env, SLOW);
    assert.equal(local.exitCode, 0, local.stderr);
    assert.match(local.stdout, /^ok +\S+\/redis-7\.0-bookworm\/bin\/redis-check-rdb dump\.rdb: RDB looks OK/m);

    // verify: the Docker flavors pass, on an image built from the fetched bookworm Redis.
    const report = join(temp.path, 'verify.json');
    const verify = await execa(
      'npm',
      ['run', '--silent', 'verify', '--', '--only', SNIPPETS.join(','), '--engines', 'redis-7.0', '--report', report],
      {
        cwd: projectRoot,
        env: { ...process.env, PATH, REDISCLI_AUTH: undefined },
        extendEnv: false,
        reject: false,
        all: true,
        timeout: 600_000,
      },
    );
    const results = (await loadReport(report))?.results ?? [];
    for (const id of SNIPPETS) {
      const docker = results.find((result) => result.id === id && result.flavor === 'docker');
      assert.equal(docker?.status, 'passed', `${id} (docker): ${docker?.error ?? 'no result'}\n${verify.all}`);
    }
  },
);

test('checkers from an image that is gone: one docker error, nothing pulled', { skip }, async () => {
  const image = `sha256:${'0'.repeat(64)}`;
  const error = await containerCheckers({ name: 'gone', id: 'gone', state: 'exited', image, mounts: [], labels: {} }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof PlaybookError, String(error));
  assert.equal(error.kind, 'docker');
  assert.match(
    error.message,
    /^No redis-check-rdb on this machine, and the image of container gone cannot run one either: No such image: sha256:0+$/,
  );
});

test(
  'checkers of an image: probed once, then taken from the record beside the shims, even with Docker down',
  { skip, timeout: 180_000 },
  async () => {
    const temp = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}probe-`));
    const saved = { cache: process.env.PLAYBOOK_ENGINE_CACHE, path: process.env.PATH };
    try {
      process.env.PLAYBOOK_ENGINE_CACHE = join(temp, 'cache');
      const { tag } = await ensureImage();
      const image = (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', tag])).stdout.trim();
      const container = { name: 'probe', id: 'probe', state: 'exited', image, mounts: [], labels: {} };
      const first = await containerCheckers(container);
      assert.equal(first.product, 'redis');
      assert.match(first.version ?? '', /^\d+\.\d+\.\d+$/);

      // A docker that cannot reach its daemon: the recorded probe stands in for the throwaway container.
      const fakeBin = join(temp, 'bin');
      await mkdir(fakeBin);
      await writeFile(
        join(fakeBin, 'docker'),
        '#!/bin/sh\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2\nexit 1\n',
        { mode: 0o755 },
      );
      process.env.PATH = `${fakeBin}:${saved.path}`;
      const second = await containerCheckers(container);
      assert.deepEqual({ ...second, label: '' }, { ...first, label: '' });

      // A record that does not parse is no record: the probe runs again (and here meets the dead daemon).
      const record = join(dirname(first.checkRdb), 'probe.json');
      await writeFile(record, '{"image":');
      const error = await containerCheckers(container).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof PlaybookError, String(error));
      assert.equal(error.kind, 'docker');
      assert.match(error.message, /^The Docker daemon does not answer/);
    } finally {
      process.env.PATH = saved.path;
      if (saved.cache === undefined) delete process.env.PLAYBOOK_ENGINE_CACHE;
      else process.env.PLAYBOOK_ENGINE_CACHE = saved.cache;
      await rm(temp, { recursive: true, force: true });
    }
  },
);
