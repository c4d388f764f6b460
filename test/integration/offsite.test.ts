import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { offsiteTools, startRestStore } from '../../scripts/harness/rest-store.ts';
import { BACKUP_VERIFIED_METRIC } from '../../scripts/procedures/metrics-file.ts';
import { diffDatasets, readDataset, writeMixedDataset } from '../../scripts/redis/dataset.ts';
import { runCli, type CliRun } from '../support/run-cli.ts';

const REDIS_PASSWORD = 'offsite redis secret 7f3a';
const REPO_PASSWORD = 'offsite repo secret c91e';

/** Every file under `dir`, as text (the store's files are encrypted: the secrets must not be there either). */
async function allText(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const texts = await Promise.all(entries.filter((entry) => entry.isFile()).map((entry) => readFile(join(entry.parentPath, entry.name), 'latin1')));
  return texts.join('\n');
}

test('the lose-everything drill: a backup pushed to a REST store on loopback comes back verified and restores the same keys; no secret anywhere', async (t) => {
  let tools: ReturnType<typeof offsiteTools>;
  try {
    tools = offsiteTools();
  } catch (error) {
    if ((error as { status?: string }).status === 'skipped') return t.skip((error as Error).message);
    throw error;
  }
  await using store = await startRestStore();
  const work = await mkdtemp(join(tmpdir(), 'playbook-offsite-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const passwordFile = join(work, 'restic-password');
  await writeFile(passwordFile, `${REPO_PASSWORD}\n`, { mode: 0o600 });
  const env = { ...store.env, REDISCLI_AUTH: REDIS_PASSWORD, PATH: `${dirname(tools.restic)}:${process.env.PATH}` };
  const repo = ['--repo', store.url, '--password-file', passwordFile];
  const runs: CliRun[] = [];
  const cli = async (args: string[]) => {
    const run = await runCli(args, env, { timeoutMs: 180_000 });
    runs.push(run);
    assert.equal(run.exitCode, 0, `${args.join(' ')}: ${run.stderr}`);
    return run;
  };

  const redis = await startRedis({ config: { appendonly: 'no', save: '' }, password: REDIS_PASSWORD });
  await using _ = redis;
  await redis.withClient((client) => writeMixedDataset(client, 'A', 40));
  const before = await redis.withClient(readDataset);
  const backups = join(redis.root, 'backups');
  const metrics = join(work, 'metrics');
  await mkdir(metrics);
  const made = await cli(['backup', '--url', redis.url, '--to', backups, '--metrics-file', join(metrics, 'local.prom'), '--json']);
  const { path: backup, manifest } = JSON.parse(made.stdout) as { path: string; manifest: { createdAt: string } };

  await cli(['offsite', 'init', ...repo]);
  // The process list is sampled while the push runs: neither the repository nor the store password may show.
  const processLists: string[] = [];
  const pushing = runCli(['offsite', 'push', backup, ...repo, '--metrics-file', join(metrics, 'offsite.prom'), '--json'], env, { timeoutMs: 180_000 });
  let done = false;
  void pushing.finally(() => {
    done = true;
  });
  while (!done) {
    processLists.push((await execa('ps', ['-eo', 'args'])).stdout);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const push = await pushing;
  runs.push(push);
  assert.equal(push.exitCode, 0, push.stderr);
  assert.ok(processLists.some((list) => list.includes('restic')), 'restic was seen running during the push');
  const pushed = JSON.parse(push.stdout) as { snapshot: string; verifiedFiles: number; createdAt: string };
  assert.equal(pushed.createdAt, manifest.createdAt);
  assert.ok(pushed.verifiedFiles >= 1);
  assert.deepEqual(await readdir(dirname(backup)), [dirname(backup) === backups ? backup.split('/').at(-1) : ''], 'the verify folder of the push is gone');

  const listed = JSON.parse((await cli(['offsite', 'list', ...repo, '--json'])).stdout) as { snapshots: { snapshot: string; name: string }[] };
  assert.deepEqual(
    listed.snapshots.map((entry) => entry.snapshot),
    [pushed.snapshot],
  );

  const prom = await readFile(join(metrics, 'offsite.prom'), 'utf8');
  const seconds = Math.floor(Date.parse(manifest.createdAt) / 1000);
  assert.match(prom, new RegExp(`^${BACKUP_VERIFIED_METRIC}\\{dir="rest:http://127\\.0\\.0\\.1:${store.port}/"\\} ${seconds}$`, 'm'));
  assert.match(await readFile(join(metrics, 'local.prom'), 'utf8'), new RegExp(`^${BACKUP_VERIFIED_METRIC}\\{dir="${backups}"\\} ${seconds}$`, 'm'));

  // Lose everything on the machine: the server's data dir and the local backups.
  await redis.stop();
  await rm(redis.dir, { recursive: true, force: true });
  await mkdir(redis.dir);
  await rm(backups, { recursive: true, force: true });
  const fresh = join(work, 'pulled');
  await mkdir(fresh);
  const pull = await cli(['offsite', 'pull', 'latest', '--to', fresh, ...repo, '--json']);
  const pulled = JSON.parse(pull.stdout) as { path: string };
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
    assert.ok(!everything.includes(secret), `a secret (${secret.length} characters) appears in an output, a log, a manifest, a store file or the process list`);
  }
});
