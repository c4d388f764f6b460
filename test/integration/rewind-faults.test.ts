import assert from 'node:assert/strict';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import type { Redis } from 'ioredis';
import { startRedis, type DisposableRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { answeringServer, faultCase } from '../support/faults.ts';
import { BIN, runCli } from '../support/run-cli.ts';
import { mountTmpfs } from '../support/tmpfs.ts';
import { treeDigest } from '../support/tree.ts';
import { assertRefusedReadOnly, assertRefusedUnchanged } from '../support/refusals.ts';

async function serverSecond(client: Redis): Promise<number> {
  return Number((await client.time())[0]);
}

/**
 * A stopped AOF server with timestamps: key `state` = "good" up to second T, then (in later seconds)
 * `state` = "bad" and about `megabytes` MB of other writes. On `smallDisk` its data dir is a tmpfs
 * just big enough for what it holds. Returns T.
 */
async function goodThenBad(
  t: { after(fn: () => Promise<unknown>): void },
  megabytes: number,
  smallDisk: boolean,
): Promise<{ redis: DisposableRedis; t: number; server: string }> {
  const redis = await startRedis({ config: { appendonly: 'yes', 'aof-timestamp-enabled': 'yes', save: '""' } });
  let disk: AsyncDisposable | undefined;
  t.after(async () => {
    await disk?.[Symbol.asyncDispose]();
    await redis[Symbol.asyncDispose]();
  });
  const second = await redis.withClient(async (client) => {
    const start = await serverSecond(client);
    await waitFor(async () => (await serverSecond(client)) > start, { what: 'the next second', timeoutMs: 5000 });
    await client.set('state', 'good');
    const good = await serverSecond(client);
    await waitFor(async () => (await serverSecond(client)) > good, { what: 'the next second', timeoutMs: 5000 });
    await client.set('state', 'bad');
    const value = 'x'.repeat(10_000);
    for (let i = 0; i < megabytes * 100; i++) await client.set(`filler:${i}`, value);
    return good;
  });
  const server = await answeringServer(redis);
  await redis.stop();
  if (smallDisk) {
    const saved = join(redis.root, 'data-before-mount');
    await cp(redis.dir, saved, { recursive: true });
    const { stdout } = await execa('du', ['-sk', saved]);
    disk = await mountTmpfs(redis.dir, `${Number(stdout.split('\t')[0]) + 512}k`);
    await cp(saved, redis.dir, { recursive: true });
  }
  return { redis, t: second, server };
}

async function stateAfterStart(redis: DisposableRedis): Promise<string | null> {
  await redis.start();
  const state = await redis.withClient((client) => client.get('state'));
  await redis.stop();
  return state;
}

test('rewind into a data dir without room for its undo copy refuses before cutting, the dir as it was', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'rewind.data-dir-full',
    'Disk and files',
    'rewind of a 3 MB AOF in a data dir with about 0.5 MB free',
  );
  const { redis, t: good, server } = await goodThenBad(t, 3, true);
  await assertRefusedUnchanged(
    redis.dir,
    ['rewind', '--data-dir', redis.dir, '--to', String(good)],
    6,
    new RegExp(
      `Not enough space for the copy of the AOF kept as the undo in ${redis.dir}: needs \\d\\.\\d MB, \\d+ kB free on ${redis.dir}`,
    ),
  );
  assert.equal(await stateAfterStart(redis), 'bad', 'it loads as before');
  await fault.passed('refused before cutting, naming the space needed and free; the data dir as it was, and it loads', 6, server);
});

test('rewind in a read-only data dir refuses, the dir as it was', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'rewind.data-dir-read-only',
    'Disk and files',
    'rewind in a data dir on a read-only file system',
  );
  const { redis, t: good, server } = await goodThenBad(t, 0, true);
  await assertRefusedReadOnly(redis.dir, ['rewind', '--data-dir', redis.dir, '--to', String(good)]);
  assert.equal(await stateAfterStart(redis), 'bad');
  await fault.passed('refused in one line, the file system named read-only; the data dir as it was', 6, server);
});

test('rewind killed after its undo copy and after its cut: the dir loads as before or as rewound, and a re-run completes', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'kill.rewind',
    'Interrupted work',
    'rewind killed with SIGKILL after its undo copy, and after its cut before the check',
  );
  const { redis, t: good, server } = await goodThenBad(t, 0, false);
  const original = await treeDigest(join(redis.dir, 'appendonlydir'));
  for (const [point, want] of [
    ['rewind-after-copy', 'bad'],
    ['rewind-after-cut', 'good'],
  ] as const) {
    const child = execa(process.execPath, [BIN, 'rewind', '--data-dir', redis.dir, '--to', String(good)], {
      reject: false,
      env: { REDIS_PLAYBOOK_STOP_AT: point },
    });
    const pid = child.pid as number;
    let exited = false;
    void child.then(() => (exited = true));
    await waitFor(async () => exited || /^\d+ \(.*\) T /.test(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')), {
      what: `rewind to stop at ${point}`,
      timeoutMs: 60_000,
    });
    assert.equal(exited, false, `rewind ended before ${point}`);
    child.kill('SIGKILL');
    await child;
    assert.equal(await stateAfterStart(redis), want, `killed at ${point}: it loads ${want === 'bad' ? 'as before' : 'as rewound'}`);
    if (want === 'good') {
      // Back to the AOF from before, from the undo copy the killed run kept.
      const undo = (await execa('sh', ['-c', `ls -d ${redis.dir}/pre-rewind-* | tail -n 1`])).stdout.trim();
      await execa('rm', ['-rf', join(redis.dir, 'appendonlydir')]);
      await cp(join(undo, 'appendonlydir'), join(redis.dir, 'appendonlydir'), { recursive: true });
      assert.deepEqual(await treeDigest(join(redis.dir, 'appendonlydir')), original, 'the undo copy is the AOF from before');
    }
  }
  const rerun = await runCli(['rewind', '--data-dir', redis.dir, '--to', String(good)]);
  assert.equal(rerun.exitCode, 0, rerun.stderr);
  assert.equal(await stateAfterStart(redis), 'good', 'a rewind after the kills completes');
  await fault.passed(
    'killed after its undo copy it loads as before, after its cut as rewound; the undo copy is the AOF from before; a re-run completed',
    null,
    server,
  );
});
