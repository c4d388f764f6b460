import assert from 'node:assert/strict';
import { appendFile, cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { exitCodeFor } from '../../scripts/cli/exit-codes.ts';
import { hostRedis } from '../../scripts/harness/engine.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { offsiteTools, startStore } from '../../scripts/harness/offsite-store.ts';
import type { ClusterManifest } from '../../scripts/procedures/manifest.ts';
import type { OffsiteEntry } from '../../scripts/procedures/offsite.ts';
import { startScratchCluster } from '../../scripts/procedures/scratch-cluster.ts';
import { evenRanges } from '../../scripts/redis/cluster.ts';
import { writeClusterDataset } from '../support/cluster.ts';
import { assertOneLineFailure, runCli } from '../support/run-cli.ts';
import { REPO_PASSWORD } from '../support/offsite.ts';

test('offsite push of a cluster backup sends it as one snapshot with its shards; pull brings it back and check passes; a damaged shard is never pushed', async (t) => {
  let restic: string;
  try {
    restic = offsiteTools().restic;
  } catch (error) {
    if ((error as { status?: string }).status !== 'skipped') throw error;
    t.skip((error as Error).message);
    return;
  }
  const work = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
  try {
    await using store = await startStore('rest');
    await using cluster = await startScratchCluster({ engine: hostRedis, shards: evenRanges(3).map((range) => ({ slots: [range] })) });
    await writeClusterDataset(cluster, 20);
    const passwordFile = join(work, 'restic-password');
    await writeFile(passwordFile, `${REPO_PASSWORD}\n`, { mode: 0o600 });
    const env = { ...store.env, PATH: `${dirname(restic)}:${process.env.PATH}` };
    const repo = ['--repo', store.url, '--password-file', passwordFile];
    const server = ['--server', hostRedis.server];
    const cli = async (args: string[]) => {
      const run = await runCli(args, env, { timeoutMs: 60_000 });
      assert.equal(run.exitCode, 0, `${args.join(' ')}: ${run.stderr}`);
      return run;
    };
    const backups = join(work, 'backups');
    const made = JSON.parse((await cli(['backup', '--cluster', '--url', cluster.url, '--to', backups, ...server, '--json'])).stdout) as {
      path: string;
      manifest: ClusterManifest;
    };
    await cli(['offsite', 'init', ...repo]);

    // A copy with a damaged shard snapshot: refused before restic runs, nothing pushed.
    const damaged = join(work, 'damaged', 'backup-cluster');
    await cp(made.path, damaged, { recursive: true });
    await appendFile(join(damaged, 'shard-2', 'dump.rdb'), 'x');
    assertOneLineFailure(
      await runCli(['offsite', 'push', damaged, ...repo], env),
      exitCodeFor('backup'),
      /does not match its manifest, not pushed: shard-2\/dump\.rdb/,
    );

    const pushed = JSON.parse((await cli(['offsite', 'push', made.path, ...repo, '--json'])).stdout) as {
      snapshot: string;
      verifiedFiles: number;
    };
    // The cluster's own files, and per shard its manifest and its files.
    const shardFiles = made.manifest.shards.length * 2;
    assert.equal(pushed.verifiedFiles, made.manifest.files.length + shardFiles, 'every file of every shard was checked after the transfer');
    const listed = JSON.parse((await cli(['offsite', 'list', ...repo, '--json'])).stdout) as { snapshots: OffsiteEntry[] };
    assert.deepEqual(
      listed.snapshots.map((entry) => [entry.snapshot, entry.kind, entry.path]),
      [[pushed.snapshot, 'cluster', made.path]],
    );

    const pulledInto = join(work, 'pulled');
    await mkdir(pulledInto);
    const pulled = JSON.parse((await cli(['offsite', 'pull', 'latest', '--to', pulledInto, ...repo, '--json'])).stdout) as {
      path: string;
      verifiedFiles: number;
    };
    assert.equal(pulled.verifiedFiles, pushed.verifiedFiles);
    assert.deepEqual(await readdir(pulled.path).then((names) => names.sort()), (await readdir(made.path)).sort());
    const check = await runCli(['check', pulled.path, ...server]);
    assert.equal(check.exitCode, 0, check.stdout + check.stderr);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
