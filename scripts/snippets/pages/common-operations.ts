import assert from 'node:assert/strict';
import { join } from 'node:path';
import { waitFor } from '../../harness/wait.ts';
import { checkRdb } from '../../redis/rdb.ts';
import { defineSnippet, type ServerUnderTest } from '../schema.ts';
import { sameCheck, type SharedCheck, type SharedKey } from '../same-check.ts';
import { runInTerminal } from '../terminal.ts';
import { startContainerWithRdb, type WithClient } from '../scenarios/docker.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { engineTraits } from '../../engines/catalog.ts';
import { engineVariant } from '../variants.ts';

const page = 'operations/common-operations';

/** Keys in db0 and db1, so that database-scoped commands show their scope. */
async function twoDatabases(server: WithClient): Promise<void> {
  await server.withClient(async (client) => {
    await client.mset('user:1', 'ada', 'user:2', 'grace', 'user:3', 'edsger');
    await client.select(1);
    await client.mset('session:1', 'a', 'session:2', 'b');
  });
}

/** A server of either kind, as far as redis-cli through it goes (a host process, or `docker exec` into a container). */
type WithCli = Pick<ServerUnderTest, 'cli'>;

const dbsize = async (server: WithCli, db: number) => Number((await server.cli(['-n', String(db), 'DBSIZE'])).stdout.trim());
const lastSave = async (server: WithCli) => Number((await server.cli(['LASTSAVE'])).stdout.trim());

/** Runs BGSAVE as the page shows it and checks it answers at once and a snapshot then completes. */
async function checkBgsave(run: () => Promise<{ exitCode: number; stdout: string }>, server: WithCli): Promise<void> {
  const before = await lastSave(server);
  await waitFor(() => Math.floor(Date.now() / 1000) > before, { what: 'the clock to pass LASTSAVE' });
  const { exitCode, stdout } = await run();
  assert.equal(exitCode, 0);
  assert.equal(stdout.trim(), 'Background saving started', 'it answers at once; the save runs in a child');
  await waitFor(async () => (await lastSave(server)) > before, { what: 'the snapshot to complete' });
}

/** Runs SAVE as the page shows it and checks the snapshot is complete when it returns. */
async function checkSave(run: () => Promise<{ exitCode: number; stdout: string }>, server: WithCli): Promise<void> {
  const before = await lastSave(server);
  await waitFor(() => Math.floor(Date.now() / 1000) > before, { what: 'the clock to pass LASTSAVE' });
  const { exitCode, stdout } = await run();
  assert.equal(exitCode, 0);
  assert.equal(stdout.trim(), 'OK');
  assert.ok((await lastSave(server)) > before, 'the snapshot is complete when SAVE returns');
}

/** Runs FLUSHDB on db1 as the page shows it: db1 empty, db0 untouched. */
async function checkFlushdb(run: () => Promise<{ exitCode: number; stdout: string }>, server: WithCli): Promise<void> {
  assert.equal(await dbsize(server, 1), 2, 'db1 has its keys before');
  const { exitCode, stdout } = await run();
  assert.equal(exitCode, 0);
  assert.equal(stdout.trim(), 'OK');
  assert.equal(await dbsize(server, 1), 0, 'db1 is empty');
  assert.equal(await dbsize(server, 0), 3, 'db0 is untouched');
}

/** Runs FLUSHALL as the page shows it: both databases empty. */
async function checkFlushall(run: () => Promise<{ exitCode: number; stdout: string }>, server: WithCli): Promise<void> {
  assert.equal((await dbsize(server, 0)) + (await dbsize(server, 1)), 5, 'five keys before');
  const { exitCode, stdout } = await run();
  assert.equal(exitCode, 0);
  assert.equal(stdout.trim(), 'OK');
  assert.equal(await dbsize(server, 0), 0);
  assert.equal(await dbsize(server, 1), 0);
}

/**
 * Both flavors of a redis-cli block of this page on keys in two databases: the host's disposable
 * server, and the seed's Compose service config in Docker; `verify` is the same on both.
 */
const onTwoDatabases = (args: string, verify: SharedCheck<SharedKey>['verify']) =>
  sameCheck(
    { setup: twoDatabases, verify },
    {
      host: `redis-cli -h {{host}} -p {{port}} ${args}`,
      docker: { command: `docker exec {{container}} redis-cli ${args}`, server: { config: seedServerConfig } },
    },
  );

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
      docker: {
        command: 'docker exec -it {{container}} redis-cli',
        server: { config: seedServerConfig },
        setup: twoDatabases,
        async verify(ctx) {
          // `-it` needs a terminal: the session runs in tmux, typed line by line as a reader would.
          const session = await runInTerminal(ctx.command, {
            cwd: ctx.scratch,
            env: { ...(process.env as Record<string, string>) },
            ready: /127\.0\.0\.1:6379>\s*$/,
            steps: [
              { type: 'PING', expect: /^PONG$/m },
              { type: 'DBSIZE', expect: /^\(integer\) 3$/m },
              { type: 'SELECT 1', expect: /127\.0\.0\.1:6379\[1\]>\s*$/ },
              { type: 'DBSIZE', expect: /^\(integer\) 2$/m },
              { type: 'quit', expect: /quit/ },
            ],
          });
          ctx.note(session.screen);
          assert.ok(session.exited, 'quit ends the session and docker exec with it');
        },
      },
    },
  }),
  defineSnippet({
    id: 'connect-cli-db',
    title: 'Work in another database',
    page,
    flavors: onTwoDatabases('-n 1 DBSIZE', async (ctx) => {
      const { exitCode, stdout } = await ctx.run();
      assert.equal(exitCode, 0);
      assert.equal(stdout.trim(), '2');
    }),
  }),
  defineSnippet({
    id: 'bgsave',
    title: 'Start a snapshot in the background',
    page,
    flavors: onTwoDatabases('BGSAVE', (ctx) => checkBgsave(() => ctx.run(), ctx.server)),
  }),
  defineSnippet({
    id: 'save-blocking',
    title: 'Take a snapshot in the foreground (blocks the server)',
    page,
    flavors: onTwoDatabases('SAVE', (ctx) => checkSave(() => ctx.run(), ctx.server)),
  }),
  defineSnippet({
    id: 'flushdb',
    title: 'Delete every key of one database',
    page,
    flavors: onTwoDatabases('-n 1 FLUSHDB', (ctx) => checkFlushdb(() => ctx.run(), ctx.server)),
  }),
  defineSnippet({
    id: 'flushall',
    title: 'Delete every key of every database',
    page,
    flavors: onTwoDatabases('FLUSHALL', (ctx) => checkFlushall(() => ctx.run(), ctx.server)),
  }),
  defineSnippet({
    id: 'export-rdb',
    title: 'Export a snapshot over the network',
    page,
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} --rdb {{backupDir}}/export.rdb',
        variants: [
          engineVariant(
            (traits) => !traits.disklessSyncDefault,
            'repl-diskless-sync is no by default: no 5 s wait, but the server first writes a snapshot over dump.rdb in its dir, then sends it.',
          ),
        ],
        setup: twoDatabases,
        values: ({ scratch }) => ({ backupDir: scratch }),
        timeoutMs: 90_000,
        async verify(ctx) {
          const server = ctx.server;
          const started = Date.now();
          const { exitCode, all } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(all, /Transfer finished with success/, 'redis-cli reports on stderr');
          if (engineTraits(ctx.engine.id).disklessSyncDefault) {
            // With the default repl-diskless-sync yes, the server waits repl-diskless-sync-delay (5 s) first.
            assert.ok(Date.now() - started >= 4_000, 'the diskless delay was observed');
          } else {
            assert.equal((await server.cli(['CONFIG', 'GET', 'repl-diskless-sync'])).stdout.trim().split('\n').at(-1), 'no');
            assert.match(await server.log(), /Starting BGSAVE for SYNC with target: disk/);
            const written = await checkRdb(server.engine, join(server.dir, 'dump.rdb'));
            assert.deepEqual(
              written.databases,
              { 0: { keys: 3, expires: 0 }, 1: { keys: 2, expires: 0 } },
              'the sync wrote dump.rdb in dir',
            );
          }
          const check = await checkRdb(ctx.server.engine, join(ctx.scratch, 'export.rdb'));
          assert.equal(check.ok, true, check.message);
          assert.deepEqual(check.databases, { 0: { keys: 3, expires: 0 }, 1: { keys: 2, expires: 0 } });
        },
      },
      docker: {
        // redis-cli in the container writes the snapshot to its stdout ("-"); the file lands on this machine.
        command: 'docker exec {{container}} redis-cli --rdb - > {{backupDir}}/export.rdb',
        server: { config: seedServerConfig },
        setup: twoDatabases,
        values: ({ scratch }) => ({ backupDir: scratch }),
        timeoutMs: 90_000,
        async verify(ctx) {
          const started = Date.now();
          const { exitCode, all } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(all, /Transfer finished with success/, 'redis-cli reports on stderr, apart from the file on stdout');
          assert.ok(Date.now() - started >= 4_000, 'the diskless delay was observed');
          // The file as exported: a scratch container of the same image starts from it.
          await using loaded = await startContainerWithRdb(join(ctx.scratch, 'export.rdb'), ctx.server.image);
          assert.equal(await dbsize(loaded, 0), 3);
          assert.equal(await dbsize(loaded, 1), 2);
          assert.deepEqual(await loaded.withClient((client) => client.mget('user:1', 'user:2', 'user:3')), ['ada', 'grace', 'edsger']);
        },
      },
    },
  }),
];
