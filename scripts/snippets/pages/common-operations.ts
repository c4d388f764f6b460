import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { waitFor } from '../../harness/wait.ts';
import { checkRdb } from '../../redis/rdb.ts';
import { defineSnippet } from '../schema.ts';

const page = 'operations/common-operations';

/** Keys in db0 and db1, so that database-scoped commands show their scope. */
async function twoDatabases(server: DisposableRedis): Promise<void> {
  await server.withClient(async (client) => {
    await client.mset('user:1', 'ada', 'user:2', 'grace', 'user:3', 'edsger');
    await client.select(1);
    await client.mset('session:1', 'a', 'session:2', 'b');
  });
}

const dbsize = async (server: DisposableRedis, db: number) => Number((await server.cli(['-n', String(db), 'DBSIZE'])).stdout.trim());
const lastSave = async (server: DisposableRedis) => Number((await server.cli(['LASTSAVE'])).stdout.trim());

export const commonOperationsSnippets = [
  defineSnippet({
    id: 'connect-cli',
    title: 'Open a redis-cli session',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}}',
        setup: twoDatabases,
        async verify(ctx) {
          // Without a terminal, redis-cli reads commands from standard input: the same session, scripted.
          const { exitCode, stdout } = await ctx.run({ input: 'PING\nDBSIZE\nSELECT 1\nDBSIZE\n' });
          assert.equal(exitCode, 0);
          assert.deepEqual(stdout.trim().split('\n'), ['PONG', '3', 'OK', '2']);
        },
      },
    },
  }),
  defineSnippet({
    id: 'connect-cli-db',
    title: 'Work in another database',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} -n 1 DBSIZE',
        setup: twoDatabases,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.equal(stdout.trim(), '2');
        },
      },
    },
  }),
  defineSnippet({
    id: 'bgsave',
    title: 'Start a snapshot in the background',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} BGSAVE',
        setup: twoDatabases,
        async verify(ctx) {
          const server = ctx.server as DisposableRedis;
          const before = await lastSave(server);
          await waitFor(() => Math.floor(Date.now() / 1000) > before, { what: 'the clock to pass LASTSAVE' });
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.equal(stdout.trim(), 'Background saving started', 'it answers at once; the save runs in a child');
          await waitFor(async () => (await lastSave(server)) > before, { what: 'the snapshot to complete' });
        },
      },
    },
  }),
  defineSnippet({
    id: 'save-blocking',
    title: 'Take a snapshot in the foreground (blocks the server)',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} SAVE',
        setup: twoDatabases,
        async verify(ctx) {
          const server = ctx.server as DisposableRedis;
          const before = await lastSave(server);
          await waitFor(() => Math.floor(Date.now() / 1000) > before, { what: 'the clock to pass LASTSAVE' });
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.equal(stdout.trim(), 'OK');
          assert.ok((await lastSave(server)) > before, 'the snapshot is complete when SAVE returns');
        },
      },
    },
  }),
  defineSnippet({
    id: 'flushdb',
    title: 'Delete every key of one database',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} -n 1 FLUSHDB',
        setup: twoDatabases,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.equal(stdout.trim(), 'OK');
          const server = ctx.server as DisposableRedis;
          assert.equal(await dbsize(server, 1), 0, 'db1 is empty');
          assert.equal(await dbsize(server, 0), 3, 'db0 is untouched');
        },
      },
    },
  }),
  defineSnippet({
    id: 'flushall',
    title: 'Delete every key of every database',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} FLUSHALL',
        setup: twoDatabases,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.equal(stdout.trim(), 'OK');
          const server = ctx.server as DisposableRedis;
          assert.equal(await dbsize(server, 0), 0);
          assert.equal(await dbsize(server, 1), 0);
        },
      },
    },
  }),
  defineSnippet({
    id: 'export-rdb',
    title: 'Export a snapshot over the network',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} --rdb {{backupDir}}/export.rdb',
        setup: twoDatabases,
        values: ({ scratch }) => ({ backupDir: scratch }),
        timeoutMs: 90_000,
        async verify(ctx) {
          const started = Date.now();
          const { exitCode, all } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(all, /Transfer finished with success/, 'redis-cli reports on stderr');
          // With the default repl-diskless-sync yes, the server waits repl-diskless-sync-delay (5 s) first.
          assert.ok(Date.now() - started >= 4_000, 'the diskless delay was observed');
          const check = await checkRdb((ctx.server as DisposableRedis).engine, join(ctx.scratch, 'export.rdb'));
          assert.equal(check.ok, true, check.message);
          assert.deepEqual(check.databases, { 0: { keys: 3, expires: 0 }, 1: { keys: 2, expires: 0 } });
        },
      },
    },
  }),
];
