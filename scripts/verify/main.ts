#!/usr/bin/env node
/**
 * `npm run verify [-- --only id,id] [--engines id,id|all] [--flavor host|docker] [--report PATH]`:
 * runs every command block's verification against disposable Redis servers, prints a table and
 * `N passed, M failed`, writes the JSON report the site reads. Host flavors run on each engine asked
 * for (`--engines`, else `PLAYBOOK_ENGINES`, else the page matrix: the catalog's engines without
 * `pagesPending`, plus, for the blocks that name them in `engines` or a variant, the engines outside it), Docker
 * flavors on each of those with an image (Redis 7.0, 8.6, Valkey 9.1);
 * `--flavor` keeps one flavor. An engine that is not on this machine is left out with a warning, and
 * is a failure when everything is required (`PLAYBOOK_REQUIRE_ALL=1`). Exit 0 when all passed, 1 when any failed (or an
 * engine is missing in CI), 2 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { PAGE_ENGINE_IDS, engineById, engineUnavailableReason, parseEngineList, type Engine } from '../harness/engine.ts';
import { flavorsOf, registry } from '../snippets/registry.ts';
import { defaultReportPath, loadReport, resultKey, writeReport, type Result } from './report.ts';
import { verifyAll } from './verify-all.ts';
import { requireAll } from '../harness/require-all.ts';

function fail(message: string): never {
  process.stderr.write(`verify: ${message}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      only: { type: 'string' },
      report: { type: 'string' },
      concurrency: { type: 'string' },
      engines: { type: 'string' },
      flavor: { type: 'string' },
    },
    allowPositionals: false,
  }).values;
} catch (error) {
  fail((error as Error).message);
}
const reportPath = args.report ?? defaultReportPath;
const only = args.only
  ?.split(',')
  .map((id) => id.trim())
  .filter(Boolean);
for (const id of only ?? []) if (!registry.has(id)) fail(`no snippet with id "${id}"`);
const flavor = args.flavor;
if (flavor !== undefined && flavor !== 'host' && flavor !== 'docker') fail(`expected --flavor host or docker, got "${flavor}"`);
const concurrency = args.concurrency === undefined ? undefined : Number(args.concurrency);
if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
  fail(`expected --concurrency to be a positive integer, got "${args.concurrency}"`);
}

let engineIds: string[];
let defaultEngines = false;
try {
  const list = args.engines ?? process.env.PLAYBOOK_ENGINES;
  defaultEngines = list === undefined || list.trim() === '';
  engineIds = defaultEngines ? [...PAGE_ENGINE_IDS] : parseEngineList(list as string);
} catch (error) {
  fail((error as Error).message);
}
const snippets = [...registry.values()].filter((snippet) => !only || only.includes(snippet.id));
// A default run also runs each block on the engines it names outside the page matrix (in `engines`,
// or in a variant of a flavor: a Redis 6.0 command), and those only: the page matrix stays what every
// other block runs on.
const namedBy = (snippet: (typeof snippets)[number]) => [
  ...(snippet.engines ?? []),
  ...flavorsOf(snippet).flatMap(([, flavor]) => flavor.variants.flatMap((variant) => variant.engines)),
];
const namedIds = defaultEngines ? [...new Set(snippets.flatMap(namedBy))].filter((id) => !engineIds.includes(id)) : [];
let missingEngines = 0;
const available = (ids: string[]): Engine[] =>
  ids.flatMap((id) => {
    const reason = engineUnavailableReason(id);
    if (reason === undefined) return [engineById(id)];
    missingEngines++;
    process.stderr.write(`verify: ${requireAll() ? 'FAIL' : 'warning'}: engine ${id} left out: ${reason}\n`);
    return [];
  });
const engines = available(engineIds);
const namedEngines = available(namedIds);

// A partial run (--only, --flavor, or fewer engines) keeps the other results of the previous report;
// any run orders its jobs by the previous report's durations (an unreadable report is then ignored).
const partial = only !== undefined || flavor !== undefined || engineIds.length < PAGE_ENGINE_IDS.length;
const previousReport = await loadReport(reportPath).catch((error: unknown) => {
  if (partial) fail(`cannot read the previous report ${reportPath} to merge into: ${(error as Error).message}`);
  return undefined;
});
const previousDurations = new Map((previousReport?.results ?? []).map((result) => [resultKey(result), result.durationMs]));
const mark = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' } as const;
const results = await verifyAll(snippets, {
  concurrency,
  engines,
  namedEngines,
  flavor,
  previousDurations,
  onResult: (result, done, total) => {
    const on = engines.length + namedEngines.length > 1 ? ` on ${result.engineId}` : '';
    process.stderr.write(
      `[${String(done).padStart(String(total).length)}/${total}] ${mark[result.status]} ${result.id} (${result.flavor})${on}\n`,
    );
  },
});

const previous = partial ? (previousReport?.results ?? []) : [];
const fresh = new Set(results.map(resultKey));
await writeReport(
  { generatedAt: new Date().toISOString(), results: [...previous.filter((r) => !fresh.has(resultKey(r))), ...results] },
  reportPath,
);

const rows = results.map((r) => [
  r.status.toUpperCase(),
  r.id,
  r.flavor,
  `${r.engine} ${r.version}`,
  `${(r.durationMs / 1000).toFixed(1)} s`,
]);
const header = ['RESULT', 'SNIPPET', 'FLAVOR', 'SERVER', 'TIME'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
const line = (cells: string[]) =>
  cells
    .map((cell, i) => cell.padEnd(widths[i] as number))
    .join('  ')
    .trimEnd();
console.log(line(header));
for (const row of rows) console.log(line(row));
for (const r of results.filter((r) => r.status === 'failed')) {
  console.log(`\n✗ ${r.id} (${r.flavor}): ${r.error}`);
  if (r.output) console.log(`  output:\n${r.output.replace(/^/gm, '    ')}`);
}
const count = (status: Result['status']) => results.filter((r) => r.status === status).length;
const skipped = count('skipped');
console.log(`\nReport: ${reportPath}`);
console.log(`${count('passed')} passed, ${count('failed')} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (missingEngines > 0) console.log(`${missingEngines} engine(s) left out: not on this machine (npm run engines fetches them)`);
process.exitCode = count('failed') > 0 || (missingEngines > 0 && requireAll()) ? 1 : 0;
