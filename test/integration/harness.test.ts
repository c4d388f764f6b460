import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { startRedis, type DisposableRedis } from '../../scripts/harness/redis-server.ts';

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'ESRCH') return false;
    throw error;
  }
}

function pidOf(redis: DisposableRedis): number {
  const pid = redis.pid;
  assert.ok(pid !== undefined, 'the server is running');
  return pid;
}

test('a disposable server survives kill -9 with its AOF, restarts on the same dir, stops and cleans up', async () => {
  const password = `harness-${process.pid}-secret`;
  let root: string;
  let lastPid: number;
  {
    await using redis = await startRedis({ config: { appendonly: 'yes', save: '""' }, password });
    root = redis.root;
    assert.equal((await redis.cli(['PING'])).stdout.trim(), 'PONG');
    assert.equal(statSync(redis.configFile).mode & 0o777, 0o600, 'the config file holding the password is private');
    const cmdline = readFileSync(`/proc/${pidOf(redis)}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(password), `the password is in argv: ${cmdline}`);

    await redis.withClient(async (client) => {
      for (let i = 0; i < 100; i++) await client.set(`k:${i}`, String(i));
    });
    const firstPid = pidOf(redis);
    await redis.kill('SIGKILL');
    assert.equal(redis.running, false);
    assert.equal(alive(firstPid), false, 'the killed process is gone');

    await redis.start();
    const secondPid = pidOf(redis);
    assert.notEqual(secondPid, firstPid);
    assert.equal((await redis.cli(['DBSIZE'])).stdout.trim(), '100', 'the AOF brought every key back');
    assert.equal((await redis.cli(['GET', 'k:99'])).stdout.trim(), '99');
    assert.equal((await redis.info('server')).server?.tcp_port, String(redis.port), 'same port after the restart');

    await redis.stop();
    assert.equal(redis.running, false);
    assert.equal(alive(secondPid), false, 'SHUTDOWN ended the process');
    assert.match(await redis.log(), /ready to exit, bye bye/);

    await redis.start();
    lastPid = pidOf(redis);
    assert.equal((await redis.cli(['DBSIZE'])).stdout.trim(), '100');
  }
  assert.equal(alive(lastPid), false, 'disposal killed the server');
  assert.equal(existsSync(root), false, 'disposal removed the temp dir');
});

test('parallel starts get distinct ports and dirs, and all answer', async () => {
  const servers = await Promise.all(Array.from({ length: 4 }, () => startRedis()));
  try {
    assert.equal(new Set(servers.map((server) => server.port)).size, 4);
    assert.equal(new Set(servers.map((server) => server.dir)).size, 4);
    for (const server of servers) {
      await server.withClient((client) => client.set('port', String(server.port)));
    }
    for (const server of servers) {
      assert.equal((await server.cli(['GET', 'port'])).stdout.trim(), String(server.port), 'each client reached its own server');
    }
  } finally {
    await Promise.all(servers.map((server) => server.dispose()));
  }
  for (const server of servers) assert.equal(existsSync(server.root), false);
});

test('disposing twice is harmless', async () => {
  const redis = await startRedis();
  const pid = pidOf(redis);
  await redis.dispose();
  await redis.dispose();
  assert.equal(alive(pid), false);
  assert.equal(existsSync(redis.root), false);
});
