import assert from 'node:assert/strict';
import { defineSnippet } from '../schema.ts';
import { configPairs } from '../outputs.ts';
import type { DisposableRedis } from '../../harness/redis-server.ts';

/** Writes a few keys and takes a synchronous snapshot, so that dump.rdb exists beside the AOF files. */
async function someDataSaved(server: DisposableRedis): Promise<void> {
  await server.withClient(async (client) => {
    await client.mset('user:1', 'ada', 'user:2', 'grace');
    await client.save();
    await client.set('user:3', 'edsger');
  });
}

export const dataLocationSnippets = [
  defineSnippet({
    id: 'config-data-location',
    title: 'Find the data directory and file names',
    page: 'persistence/where-is-my-data',
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} CONFIG GET dir dbfilename appenddirname appendfilename appendonly',
        server: { config: { appendonly: 'yes' } },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const config = configPairs(stdout);
          assert.equal(config.dir, ctx.server?.dir);
          assert.equal(config.dbfilename, 'dump.rdb');
          assert.equal(config.appenddirname, 'appendonlydir');
          assert.equal(config.appendfilename, 'appendonly.aof');
          assert.equal(config.appendonly, 'yes');
        },
      },
    },
  }),
  defineSnippet({
    id: 'list-data-files',
    title: 'List the snapshot and AOF files',
    page: 'persistence/where-is-my-data',
    flavors: {
      host: {
        command: 'ls -l {{dataDir}} {{dataDir}}/appendonlydir',
        server: { config: { appendonly: 'yes' } },
        setup: someDataSaved,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          for (const name of ['dump.rdb', 'appendonlydir', 'appendonly.aof.manifest']) assert.match(stdout, new RegExp(` ${name.replace(/\./g, '\\.')}$`, 'm'));
          assert.match(stdout, / appendonly\.aof\.\d+\.base\.rdb$/m);
          assert.match(stdout, / appendonly\.aof\.\d+\.incr\.aof$/m);
        },
      },
    },
  }),
  defineSnippet({
    id: 'show-aof-manifest',
    title: 'See which files make up the AOF',
    page: 'persistence/where-is-my-data',
    flavors: {
      host: {
        command: 'cat {{dataDir}}/appendonlydir/appendonly.aof.manifest',
        server: { config: { appendonly: 'yes' } },
        setup: someDataSaved,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const lines = stdout.trim().split('\n');
          assert.equal(lines.length, 2, 'a fresh AOF has one base file and one incr file');
          assert.match(lines[0] ?? '', /^file appendonly\.aof\.1\.base\.rdb seq 1 type b$/);
          assert.match(lines[1] ?? '', /^file appendonly\.aof\.1\.incr\.aof seq 1 type i$/);
        },
      },
    },
  }),
];
