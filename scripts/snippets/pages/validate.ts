import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readExpectFile } from '../../procedures/expect-file.ts';
import { validate } from '../../procedures/validate.ts';
import { defineSnippet } from '../schema.ts';
import type { WithClient } from '../scenarios/docker.ts';
import { seedServerConfig } from './where-is-my-data.ts';

const page = 'recovery/validate';

/** The seed's critical keys: a sorted set of domains ready to crawl, a RedisBloom filter of seen URLs. */
export const expectFile = `databases:
  "0": { minKeys: 1000 }
keys:
  - key: domains:ready
    type: zset
    minSize: 100
  - key: seen:bloom
    type: MBbloom--
    module: bf
`;

/** A crawler dataset that satisfies the file, except the bloom filter when no RedisBloom is loaded. */
async function crawlerData(server: WithClient): Promise<void> {
  await server.withClient(async (client) => {
    const pipeline = client.pipeline();
    for (let i = 0; i < 1200; i++) pipeline.zadd('domains:ready', i, `site-${i}.example`);
    for (let i = 0; i < 1000; i++) pipeline.set(`page:${i}`, 'fetched');
    await pipeline.exec();
  });
}

/** The expect file as shown, written into the verification's scratch dir. */
async function writeExpectFile({ scratch }: { scratch: string }): Promise<Record<string, string>> {
  const path = join(scratch, 'expect.yaml');
  await writeFile(path, expectFile);
  return { expectFile: path };
}

/** What validate reports on {@link crawlerData} without RedisBloom: only the filter fails, and why. */
function checkCrawlerFindings(exitCode: number, stdout: string, stderr: string): void {
  // This server has no RedisBloom module: the filter cannot be there, and validate says why.
  assert.equal(exitCode, 10, stderr);
  assert.match(stdout, /^db0 seen:bloom\s+MBbloom--\s+module bf not loaded/m);
  assert.doesNotMatch(stdout, /domains:ready/, 'what holds is not listed');
  assert.doesNotMatch(stdout, /^db0\s+at least/m, 'the key count holds');
  assert.match(stderr, /1 of 3 expectations do not hold/);
}

export const validateSnippets = [
  defineSnippet({
    id: 'validate-expect-file',
    title: 'Write down what must be there after a recovery',
    page,
    flavors: {
      host: {
        lang: 'yaml',
        command: expectFile,
        setup: crawlerData,
        async verify(ctx) {
          // The file as shown parses, and checks exactly the seed's keys against a server.
          const path = join(ctx.scratch, 'expect.yaml');
          await writeFile(path, ctx.command);
          const expect = await readExpectFile(path);
          const findings = await ctx.server.withClient((client) => validate(client, expect));
          assert.deepEqual(
            findings.map((finding) => [finding.subject, finding.ok]),
            [
              ['db0', true],
              ['db0 domains:ready', true],
              ['db0 seen:bloom', false],
            ],
          );
          assert.match(findings[2]?.actual ?? '', /^module bf not loaded/);
        },
      },
    },
  }),
  defineSnippet({
    id: 'validate-cli',
    title: 'Check a recovered server',
    page,
    flavors: {
      host: {
        command: 'redis-playbook validate --expect {{expectFile}} --url redis://{{host}}:{{port}}',
        setup: crawlerData,
        values: writeExpectFile,
        async verify(ctx) {
          const { exitCode, stdout, stderr } = await ctx.run();
          checkCrawlerFindings(exitCode, stdout, stderr);
        },
      },
      docker: {
        // Through docker exec NAME redis-cli, one command each: no port needs publishing.
        command: 'redis-playbook validate --expect {{expectFile}} --container {{container}}',
        server: { config: seedServerConfig },
        setup: crawlerData,
        values: writeExpectFile,
        async verify(ctx) {
          const { exitCode, stdout, stderr } = await ctx.run();
          checkCrawlerFindings(exitCode, stdout, stderr);
          assert.match(stderr, new RegExp(`do not hold on redis://127\\.0\\.0\\.1:6379 in container ${ctx.values.container}`));
        },
      },
    },
  }),
];
