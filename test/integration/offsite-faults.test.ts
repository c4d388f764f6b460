import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { startRestStore } from '../../scripts/harness/offsite-store.ts';
import { offsiteBench, rawRestic, REPO_PASSWORD } from '../support/offsite.ts';
import { assertOneLineFailure, runCli } from '../support/run-cli.ts';
import { mountTmpfs } from '../support/tmpfs.ts';
import { treeDigest } from '../support/tree.ts';

test('a wrong repository password exits 4 in one line and leaves the backup dir as it was', async (t) => {
  await using bench = await offsiteBench(t);
  if (!bench) return;
  const repo = ['--repo', bench.store.url, '--password-file', bench.passwordFile];
  assert.equal((await bench.cli(['offsite', 'init', ...repo])).exitCode, 0);
  const wrong = join(bench.work, 'wrong-password');
  await writeFile(wrong, 'not the password\n');
  const before = await treeDigest(bench.backups);
  for (const args of [['push', bench.backup], ['list'], ['pull', 'latest', '--to', bench.backups]]) {
    const run = await bench.cli(['offsite', ...args, '--repo', bench.store.url, '--password-file', wrong]);
    assertOneLineFailure(
      run,
      4,
      /does not open the repository rest:http:\/\/127\.0\.0\.1:\d+\/ \(restic: wrong password or no key found\)/,
    );
    assert.doesNotMatch(run.stderr, new RegExp(REPO_PASSWORD));
  }
  assert.deepEqual(await treeDigest(bench.backups), before);
});

test('an unreachable store exits 3 within seconds, naming the address, and changes nothing', async (t) => {
  await using bench = await offsiteBench(t);
  if (!bench) return;
  const repo = ['--repo', bench.store.url, '--password-file', bench.passwordFile];
  assert.equal((await bench.cli(['offsite', 'init', ...repo])).exitCode, 0);
  await bench.store.stop();
  const before = await treeDigest(bench.backups);
  const started = performance.now();
  for (const args of [['push', bench.backup], ['list'], ['pull', 'latest', '--to', bench.backups], ['forget', '--keep-daily', '1']]) {
    assertOneLineFailure(await bench.cli(['offsite', ...args, ...repo]), 3, /cannot be reached: connection refused at 127\.0\.0\.1:\d+/);
  }
  assert.ok(performance.now() - started < 30_000, 'four refusals took under 30 s (restic alone retries for minutes)');
  assert.deepEqual(await treeDigest(bench.backups), before);
});

test('a read-only repository and an append-only store refuse in one line with exit 6, the local backups kept', async (t) => {
  await using bench = await offsiteBench(t);
  if (!bench) return;
  const mount = join(bench.work, 'ro');
  await using _mount = await mountTmpfs(mount, '16m');
  const repo = ['--repo', join(mount, 'repo'), '--password-file', bench.passwordFile];
  assert.equal((await bench.cli(['offsite', 'init', ...repo])).exitCode, 0);
  await execa('mount', ['-o', 'remount,ro', mount]);
  const before = await treeDigest(bench.backups);
  assertOneLineFailure(
    await bench.cli(['offsite', 'push', bench.backup, ...repo]),
    6,
    /refuses writes \(read-only, permission denied or append-only\)/,
  );
  assert.deepEqual(await treeDigest(bench.backups), before);

  await using appendOnly = await startRestStore({ appendOnly: true });
  const rest = ['--repo', appendOnly.url, '--password-file', bench.passwordFile];
  const env = { ...bench.env, ...appendOnly.env };
  assert.equal((await runCli(['offsite', 'init', ...rest], env)).exitCode, 0);
  assert.equal((await runCli(['offsite', 'push', bench.backup, ...rest], env, { timeoutMs: 120_000 })).exitCode, 0);
  await rawRestic({ ...bench, env }, appendOnly.url, ['backup', '--tag', 'redis-playbook', '--time', '2026-01-01 00:00:00', bench.backup]);
  const forget = await runCli(['offsite', 'forget', '--keep-hourly', '1', ...rest], env, { timeoutMs: 120_000 });
  assertOneLineFailure(forget, 6, /refuses writes/);
  assert.deepEqual(await treeDigest(bench.backups), before);
});

test('a full repository exits 6 in one line and the backup stays in the backup dir', async (t) => {
  // 3 MB of random bytes: restic can neither deduplicate nor compress them into a 2 MB file system.
  await using bench = await offsiteBench(t, {
    extra: (redis) => redis.withClient((client) => client.set('big', randomBytes(3 << 20)).then(() => undefined)),
  });
  if (!bench) return;
  const mount = join(bench.work, 'small');
  await using _mount = await mountTmpfs(mount, '2m');
  const repo = ['--repo', join(mount, 'repo'), '--password-file', bench.passwordFile];
  assert.equal((await bench.cli(['offsite', 'init', ...repo])).exitCode, 0);
  const before = await treeDigest(bench.backups);
  assertOneLineFailure(await bench.cli(['offsite', 'push', bench.backup, ...repo]), 6, /is full \(no space left on device\)/);
  assert.deepEqual(await treeDigest(bench.backups), before);
});

test('a pulled backup whose checksum does not match its manifest is moved aside and refused with exit 7', async (t) => {
  await using bench = await offsiteBench(t);
  if (!bench) return;
  const repo = ['--repo', bench.store.url, '--password-file', bench.passwordFile];
  assert.equal((await bench.cli(['offsite', 'init', ...repo])).exitCode, 0);
  // A snapshot of a backup changed after its manifest was written (the CLI's own push refuses such a folder).
  const tampered = join(bench.work, 'tampered', '2026-01-01T00-00-00Z');
  await cp(bench.backup, tampered, { recursive: true });
  const rdb = join(tampered, 'dump.rdb');
  const bytes = await readFile(rdb);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = (bytes[middle] ?? 0) ^ 0x5a;
  await writeFile(rdb, bytes);
  assertOneLineFailure(
    await bench.cli(['offsite', 'push', tampered, ...repo]),
    7,
    /does not match its manifest, not pushed: dump\.rdb sha256/,
  );
  await rawRestic(bench, bench.store.url, ['backup', '--tag', 'redis-playbook', tampered]);

  const to = join(bench.work, 'restore-here');
  await mkdir(to);
  await writeFile(join(to, 'keep-me'), 'an operator file');
  const run = await bench.cli(['offsite', 'pull', 'latest', '--to', to, ...repo]);
  assertOneLineFailure(run, 7, /does not match its manifest, moved aside to .*2026-01-01T00-00-00Z\.bad-[^:]+: dump\.rdb sha256/);
  const left = (await readdir(to)).sort();
  assert.equal(left.length, 2);
  assert.equal(left[1], 'keep-me');
  assert.match(left[0] ?? '', /^2026-01-01T00-00-00Z\.bad-/);
  assert.deepEqual((await readdir(join(to, left[0] ?? ''))).sort(), ['dump.rdb', 'manifest.json'], 'the bad pull is kept whole for a look');
});

test('forget keeps the newest snapshot of each of the last N hours and prunes the rest', async (t) => {
  await using bench = await offsiteBench(t);
  if (!bench) return;
  const repo = ['--repo', bench.store.url, '--password-file', bench.passwordFile];
  assert.equal((await bench.cli(['offsite', 'init', ...repo])).exitCode, 0);
  const times = ['2026-12-01 10:05:00', '2026-12-01 10:40:00', '2026-12-01 11:05:00', '2026-12-01 12:05:00'];
  for (const time of times) await rawRestic(bench, bench.store.url, ['backup', '--tag', 'redis-playbook', '--time', time, bench.backup]);
  const run = await bench.cli(['offsite', 'forget', '--keep-hourly', '2', ...repo, '--json']);
  assert.equal(run.exitCode, 0, run.stderr);
  const { kept, removed } = JSON.parse(run.stdout) as { kept: string[]; removed: string[] };
  assert.equal(kept.length, 2);
  assert.equal(removed.length, 2);
  const listed = JSON.parse((await bench.cli(['offsite', 'list', ...repo, '--json'])).stdout) as { snapshots: { time: string }[] };
  assert.deepEqual(
    listed.snapshots.map((entry) => entry.time.slice(0, 16)),
    ['2026-12-01T11:05', '2026-12-01T12:05'],
  );
});
