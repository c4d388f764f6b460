import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execa } from 'execa';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { WatchEventSchema } from '../../scripts/procedures/watch.ts';
import { cliCommand } from '../support/run-cli.ts';

test('watch --for 5 --json during a BGSAVE reports its start and its end', async () => {
  await using redis = await startRedis({ config: { save: '""', 'enable-debug-command': 'local', rdbcompression: 'no' } });
  await redis.withClient((client) => client.call('DEBUG', 'POPULATE', 300_000, 'key', 100));
  const cli = cliCommand(['watch', '--url', redis.url, '--for', '5', '--json']);
  const watcher = execa(cli.file, cli.args, { ...cli.options, reject: false, buffer: true, lines: false });
  let seen = '';
  watcher.stdout?.on('data', (chunk: Buffer) => (seen += chunk.toString()));
  await waitFor(() => seen.includes('"event":"status"'), { what: 'watch to print its first status line' });
  await redis.withClient(async (client) => {
    await client.set('one-more', 'write');
    await client.bgsave();
  });
  const result = await watcher;
  assert.equal(result.exitCode, 0, String(result.stderr));
  const events = String(result.stdout)
    .trim()
    .split('\n')
    .map((line) => WatchEventSchema.parse(JSON.parse(line)));
  const names = events.map((event) => event.event);
  const started = names.indexOf('save-started');
  const finished = names.indexOf('save-finished');
  assert.ok(started >= 0, `a save-started event in ${names.join(', ')}`);
  assert.ok(finished > started, 'save-finished comes after save-started');
  assert.equal(events[finished]?.status, 'ok');
  assert.ok(typeof events[started]?.forkUsec === 'number');
  assert.equal(events[0]?.event, 'status');
  assert.ok(events[0].changesSinceLastSave >= 0);
});

test('watch reports an AOF rewrite as it starts and ends', async () => {
  await using redis = await startRedis({ config: { save: '""', appendonly: 'yes' } });
  const cli = cliCommand(['watch', '--url', redis.url, '--for', '3', '--json']);
  const watcher = execa(cli.file, cli.args, { ...cli.options, reject: false });
  let seen = '';
  watcher.stdout?.on('data', (chunk: Buffer) => (seen += chunk.toString()));
  await waitFor(() => seen.includes('"event":"status"'), { what: 'watch to print its first status line' });
  await redis.withClient((client) => client.bgrewriteaof());
  const result = await watcher;
  const names = String(result.stdout)
    .trim()
    .split('\n')
    .map((line) => WatchEventSchema.parse(JSON.parse(line)).event);
  assert.ok(names.includes('aof-rewrite-started'), names.join(', '));
  assert.ok(names.includes('aof-rewrite-finished'), names.join(', '));
});
