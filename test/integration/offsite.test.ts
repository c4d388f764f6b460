import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { BACKUP_VERIFIED_METRIC } from '../../scripts/procedures/metrics-file.ts';
import { diffDatasets, readDataset } from '../../scripts/redis/dataset.ts';
import { offsiteBench, REPO_PASSWORD } from '../support/offsite.ts';
import { runCli, type CliRun } from '../support/run-cli.ts';

const REDIS_PASSWORD = 'offsite redis secret 7f3a';

/** Every file under `dir`, as text (the store's files are encrypted: the secrets must not be there either). */
async function allText(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const texts = await Promise.all(
    entries.filter((entry) => entry.isFile()).map((entry) => readFile(join(entry.parentPath, entry.name), 'latin1')),
  );
  return texts.join('\n');
}

for (const kind of ['s3', 'rest'] as const) {
  test(`the lose-everything drill: a backup pushed to ${kind === 's3' ? 'an S3-compatible store' : 'a REST store'} on loopback comes back verified and restores the same keys; no secret anywhere`, async (t) => {
    await using bench = await offsiteBench(t, { password: REDIS_PASSWORD, kind });
    if (!bench) return;
    const { store, redis, backups, backup } = bench;
    const repo = ['--repo', store.url, '--password-file', bench.passwordFile];
    const runs: CliRun[] = [];
    const cli = async (args: string[]) => {
      const run = await bench.cli(args);
      runs.push(run);
      assert.equal(run.exitCode, 0, `${args.join(' ')}: ${run.stderr}`);
      return run;
    };
    const before = await redis.withClient(readDataset);
    const metrics = join(bench.work, 'metrics');
    await mkdir(metrics);
    const made = await cli(['backup', '--url', redis.url, '--to', backups, '--metrics-file', join(metrics, 'local.prom'), '--json']);
    const newest = JSON.parse(made.stdout) as { path: string; manifest: { createdAt: string } };
    await rm(backup, { recursive: true });

    await cli(['offsite', 'init', ...repo]);
    // The process list is sampled while the push runs: neither the repository nor the store password may show.
    const processLists: string[] = [];
    const pushing = runCli(
      ['offsite', 'push', newest.path, ...repo, '--metrics-file', join(metrics, 'offsite.prom'), '--json'],
      bench.env,
      { timeoutMs: 180_000 },
    );
    const pushRun = { done: false };
    void pushing.finally(() => {
      pushRun.done = true;
    });
    while (!pushRun.done) {
      processLists.push((await execa('ps', ['-eo', 'args'])).stdout);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const push = await pushing;
    runs.push(push);
    assert.equal(push.exitCode, 0, push.stderr);
    assert.ok(
      processLists.some((list) => list.includes('restic')),
      'restic was seen running during the push',
    );
    const pushed = JSON.parse(push.stdout) as { snapshot: string; verifiedFiles: number; createdAt: string };
    assert.equal(pushed.createdAt, newest.manifest.createdAt);
    assert.ok(pushed.verifiedFiles >= 1);
    assert.deepEqual(await readdir(backups), [newest.path.split('/').at(-1)], 'the verify folder of the push is gone');

    const listed = JSON.parse((await cli(['offsite', 'list', ...repo, '--json'])).stdout) as { snapshots: { snapshot: string }[] };
    assert.deepEqual(
      listed.snapshots.map((entry) => entry.snapshot),
      [pushed.snapshot],
    );
    const seconds = Math.floor(Date.parse(newest.manifest.createdAt) / 1000);
    const shown = store.url.replace(/[.]/g, '\\.');
    assert.match(
      await readFile(join(metrics, 'offsite.prom'), 'utf8'),
      new RegExp(`^${BACKUP_VERIFIED_METRIC}\\{dir="${shown}"\\} ${seconds}$`, 'm'),
    );
    assert.match(
      await readFile(join(metrics, 'local.prom'), 'utf8'),
      new RegExp(`^${BACKUP_VERIFIED_METRIC}\\{dir="${backups}"\\} ${seconds}$`, 'm'),
    );

    // Lose everything on the machine: the server's data dir and the local backups.
    await redis.stop();
    await rm(redis.dir, { recursive: true, force: true });
    await mkdir(redis.dir);
    await rm(backups, { recursive: true, force: true });
    const fresh = join(bench.work, 'pulled');
    await mkdir(fresh);
    const pulled = JSON.parse((await cli(['offsite', 'pull', 'latest', '--to', fresh, ...repo, '--json'])).stdout) as { path: string };
    await cli(['test-restore', pulled.path]);
    await cli(['restore', pulled.path, '--data-dir', redis.dir]);
    await redis.start();
    assert.deepEqual(diffDatasets(before, await redis.withClient(readDataset)), []);

    const everything = [
      ...runs.map((run) => run.stdout + run.stderr),
      ...processLists,
      await allText(fresh),
      await allText(metrics),
      await allText(store.dir),
      await readFile(redis.logFile, 'utf8'),
    ].join('\n');
    for (const secret of [REDIS_PASSWORD, REPO_PASSWORD, store.password]) {
      assert.ok(
        !everything.includes(secret),
        `a secret (${secret.length} characters) appears in an output, a log, a manifest, a store file or the process list`,
      );
    }
  });
}
