import assert from 'node:assert/strict';
import { defineSnippet, type VerifyContext } from '../schema.ts';
import { redisCliBlock } from '../same-check.ts';
import { type WithClient } from '../scenarios/docker.ts';
import { page } from '../scenarios/troubleshooting.ts';

// ---------------------------------------------------------------------------------------------------
// Memory and slowness

/** The cached home page: the one big string of the crawler dataset. */
const homePage = `<html>${'<p>news</p>'.repeat(10_000)}</html>`;

/** A crawler-like dataset: 2000 small pages and one big one, a 50000-URL queue, a 5000-domain sorted set. */
async function crawlerDataset(server: WithClient): Promise<void> {
  await server.withClient(async (client) => {
    const pipeline = client.pipeline();
    for (let i = 1; i <= 2000; i++) pipeline.set(`page:${i}`, `<html>page ${i}</html>`);
    pipeline.set('page:home', homePage);
    for (let i = 1; i <= 50_000; i += 1000) {
      pipeline.rpush('crawl:queue', ...Array.from({ length: 1000 }, (_, j) => `https://example.com/page/${i + j}`));
    }
    for (let i = 1; i <= 5000; i++) pipeline.zadd('domains:ready', i, `domain-${i}.example`);
    await pipeline.exec();
  });
}

/**
 * `Biggest <type> found '"<key>"' has <n> <unit>` summary lines of --bigkeys / --memkeys (Redis 7.0
 * and Valkey; Redis 8.0's redis-cli quotes the key as `"<key>"`).
 */
function biggest(stdout: string): { type: string; key: string; size: number; unit: string }[] {
  return [...stdout.matchAll(/^Biggest +(\w+) found '?"([^"]+)"'? has (\d+) (\w+)$/gm)].map((m) => ({
    type: m[1] as string,
    key: m[2] as string,
    size: Number(m[3]),
    unit: m[4] as string,
  }));
}

/** --bigkeys on the crawler dataset: every key sampled, the biggest of each type by elements. */
function assertBigkeys(stdout: string): void {
  assert.match(stdout, /^Sampled 2003 keys in the keyspace!$/m);
  assert.deepEqual(
    biggest(stdout)
      .map(({ type, key, size, unit }) => `${type} ${key} ${size} ${unit}`)
      .sort(),
    ['list crawl:queue 50000 items', `string page:home ${homePage.length} bytes`, 'zset domains:ready 5000 members'],
  );
}

/** --memkeys on the crawler dataset: the queue is the biggest in bytes; the sizes the page quotes. */
function assertMemkeys(stdout: string, ctx: Pick<VerifyContext<unknown>, 'measure'>): void {
  const found = biggest(stdout);
  assert.ok(
    found.every((entry) => entry.unit === 'bytes'),
    'sizes in bytes',
  );
  const [top] = [...found].sort((a, b) => b.size - a.size);
  assert.equal(top?.key, 'crawl:queue', 'the biggest key in memory is the queue');
  assert.ok(top.size > 1_000_000, 'the queue takes over a megabyte');
  const bytes = Object.fromEntries(found.map((entry) => [entry.key, entry.size]));
  assert.deepEqual(Object.keys(bytes).sort(), ['crawl:queue', 'domains:ready', 'page:home']);
  // The page renders these sizes from the report (<Measured/>), not typed.
  for (const [key, size] of Object.entries(bytes)) ctx.measure(`${key} bytes`, size);
  // The sizes the page quotes: about 1.6 MB, 0.4 to 0.8 MB (a skiplist's levels are random; Valkey 8.1's and 9.1's are smaller) and 0.1 MB.
  const about = (key: string, low: number, high: number) => {
    assert.ok((bytes[key] ?? 0) > low && (bytes[key] ?? 0) < high, `${key}: ${bytes[key]} bytes`);
  };
  about('crawl:queue', 1_500_000, 1_700_000);
  about('domains:ready', 380_000, 800_000);
  about('page:home', 100_000, 130_000);
}

/** The troubleshooting page's blocks of one fault: Memory grows: the biggest keys. */
export const memorySnippets = [
  // 8. Memory
  defineSnippet({
    id: 'trouble-bigkeys',
    title: 'Find the biggest key of each type (by elements)',
    page,
    flavors: redisCliBlock('--bigkeys', { config: { appendonly: 'no', save: '""' }, setup: crawlerDataset, check: assertBigkeys }),
  }),
  defineSnippet({
    id: 'trouble-memkeys',
    title: 'Find the biggest key of each type (by memory)',
    page,
    flavors: redisCliBlock('--memkeys', { config: { appendonly: 'no', save: '""' }, setup: crawlerDataset, check: assertMemkeys }),
  }),
];
