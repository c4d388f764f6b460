import assert from 'node:assert/strict';
import { engineTraits } from '../../engines/catalog.ts';
import { configPairs, infoFields } from '../outputs.ts';
import { defineSnippet } from '../schema.ts';
import { redisCliBlock, sameCheck } from '../same-check.ts';
import { type WithClient } from '../scenarios/docker.ts';
import { engineVariant, replaced } from '../variants.ts';
import { page } from '../scenarios/troubleshooting.ts';

/** 100000 keys, a cleared slow log, then `KEYS *` over all of them (a classic cause of latency). */
async function slowKeysCommand(server: WithClient & { cli(args: string[]): Promise<{ stdout: string }> }): Promise<void> {
  await server.withClient(async (client) => {
    for (let i = 0; i < 100_000; i += 10_000) {
      const pipeline = client.pipeline();
      for (let j = i; j < i + 10_000; j++) pipeline.set(`page:${j}`, `<html>page ${j}</html>`);
      await pipeline.exec();
    }
    await client.slowlog('RESET');
  });
  // Through redis-cli, as an operator would run it (the slow log keeps the command as the client sent it).
  const keys = await server.cli(['KEYS', '*']);
  assert.equal(keys.stdout.split('\n').length, 100_000);
}

/** 5000 keys and a BGSAVE slowed to 10 ms a key (rdb-key-save-delay): a save that stays in progress. */
async function saveInProgress(server: WithClient): Promise<void> {
  await server.withClient(async (client) => {
    const pipeline = client.pipeline();
    for (let i = 1; i <= 5000; i++) pipeline.set(`page:${i}`, `<html>page ${i}</html>`);
    await pipeline.exec();
    await client.config('SET', 'rdb-key-save-delay', '10000');
    assert.equal(await client.bgsave(), 'Background saving started');
  });
}

/** SLOWLOG GET after `KEYS *` over 100000 keys: its entry, one field a line. */
function assertSlowKeysEntry(stdout: string): void {
  // Without a TTY each entry is printed one field a line: id, unix time, microseconds, the
  // command's words, the client's address, the client's name (empty).
  const lines = stdout.replace(/\r/g, '').split('\n');
  const keys = lines.findIndex((line, i) => line === 'KEYS' && lines[i + 1] === '*');
  assert.ok(keys >= 3, 'the KEYS * call is in the slow log');
  assert.match(lines[keys - 3] ?? '', /^\d+$/, 'entry id');
  assert.match(lines[keys - 2] ?? '', /^\d{10}$/, 'unix time');
  assert.ok(Number(lines[keys - 1]) >= 1000, 'its duration in microseconds is over the threshold');
  assert.match(lines[keys + 2] ?? '', /^127\.0\.0\.1:\d+$/, 'the client address');
}

/** --latency without a TTY: one line `min max avg samples`, then it exits. */
async function assertLatencyLine(ctx: {
  run(options?: { timeoutMs?: number }): Promise<{ exitCode: number; stdout: string }>;
}): Promise<void> {
  const started = Date.now();
  const { exitCode, stdout } = await ctx.run({ timeoutMs: 30_000 });
  assert.equal(exitCode, 0);
  // Not a terminal: one line, `min max avg samples` (milliseconds), then it exits.
  const match = /^(\d+) (\d+) (\d+\.\d{2}) (\d+)$/.exec(stdout.trim());
  assert.ok(match, `one line "min max avg samples", got: ${stdout}`);
  const [min, max, avg, samples] = match.slice(1).map(Number) as [number, number, number, number];
  assert.ok(min <= avg && avg <= max && samples > 0);
  assert.ok(Date.now() - started < 20_000, 'it ended by itself');
}

/** INFO fields of a save or rewrite in progress, as a grep pattern. */
const SAVE_FIELDS = 'rdb_bgsave_in_progress|aof_rewrite_in_progress|current_save_keys_processed|current_save_keys_total|latest_fork_usec';
/** The same where INFO has no save progress (Redis 6.0): how long the save has run instead. */
const SAVE_FIELDS_6 = replaced(SAVE_FIELDS, 'current_save_keys_processed|current_save_keys_total', 'rdb_current_bgsave_time_sec');
const saveInProgressCheck = `redis-cli -h {{host}} -p {{port}} INFO | grep -E '^(${SAVE_FIELDS}):'`;

/** The INFO fields of a save part way through 5000 keys (where INFO shows no progress, Redis 6.0: how long it has run). */
function assertSaveInProgress(stdout: string, engineId?: string): void {
  const fields = infoFields(stdout);
  assert.equal(fields.rdb_bgsave_in_progress, '1');
  assert.equal(fields.aof_rewrite_in_progress, '0');
  if (!engineTraits(engineId).saveProgress) {
    assert.equal(fields.current_save_keys_total, undefined);
    assert.match(fields.rdb_current_bgsave_time_sec ?? '', /^\d+$/);
    assert.match(fields.latest_fork_usec ?? '', /^\d+$/);
    return;
  }
  assert.equal(fields.current_save_keys_total, '5000');
  assert.ok(Number(fields.current_save_keys_processed) < 5000, 'the save is part way');
  assert.match(fields.latest_fork_usec ?? '', /^\d+$/);
}

/** The troubleshooting page's blocks of one fault: Commands are slow. */
export const slownessSnippets = [
  // 9. Slowness
  defineSnippet({
    id: 'trouble-slowlog',
    title: 'List the slowest recent commands',
    page,
    flavors: redisCliBlock('SLOWLOG GET 10', {
      config: { appendonly: 'no', save: '""', 'slowlog-log-slower-than': 1000 },
      setup: slowKeysCommand,
      check: assertSlowKeysEntry,
    }),
  }),
  defineSnippet({
    id: 'trouble-latency',
    title: 'Measure round-trip latency once',
    page,
    flavors: sameCheck(
      {
        config: { appendonly: 'no', save: '""' },
        async verify(ctx) {
          await assertLatencyLine(ctx);
          // The slow log's defaults the page quotes (this server runs with them).
          const defaults = await ctx.server.cli(['CONFIG', 'GET', 'slowlog-*']);
          assert.deepEqual(configPairs(defaults.stdout), { 'slowlog-log-slower-than': '10000', 'slowlog-max-len': '128' });
        },
      },
      {
        host: 'redis-cli -h {{host}} -p {{port}} --latency',
        // From inside the container: the loopback only. Run redis-cli from the application's host or container to include the network.
        docker: 'docker exec {{container}} redis-cli --latency',
      },
    ),
  }),
  defineSnippet({
    id: 'trouble-save-in-progress',
    title: 'See whether a save or rewrite runs now',
    page,
    flavors: {
      host: {
        command: saveInProgressCheck,
        variants: [
          engineVariant(
            (traits) => !traits.saveProgress,
            'INFO does not say how far a save is (no current_save_keys_*): rdb_current_bgsave_time_sec says how long it has run.',
            replaced(saveInProgressCheck, SAVE_FIELDS, SAVE_FIELDS_6),
          ),
        ],
        server: { config: { appendonly: 'no', save: '""' } },
        setup: saveInProgress,
        async verify(ctx) {
          const server = ctx.server;
          try {
            const { exitCode, stdout } = await ctx.run();
            assert.equal(exitCode, 0);
            assertSaveInProgress(stdout, server.engine.id);
          } finally {
            // SHUTDOWN NOSAVE also ends the slowed-down save child.
            await server.stop({ save: false });
          }
        },
      },
      docker: {
        command: `docker exec {{container}} redis-cli INFO | grep -E '^(${SAVE_FIELDS}):'`,
        server: { config: { appendonly: 'no', save: '""' } },
        setup: saveInProgress,
        async verify(ctx) {
          // The slowed-down save child ends with the container when the verification removes it.
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assertSaveInProgress(stdout);
        },
      },
    },
  }),
];
