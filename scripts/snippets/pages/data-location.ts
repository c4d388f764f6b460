import assert from 'node:assert/strict';
import { defineSnippet } from '../schema.ts';

/** Pairs of lines (`name`, `value`) printed by `redis-cli CONFIG GET a b c`, as a record. */
export function configPairs(output: string): Record<string, string> {
  const lines = output.replace(/\r/g, '').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const pairs: Record<string, string> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) pairs[lines[i] as string] = lines[i + 1] as string;
  return pairs;
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
];
