import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { engineSpecs } from '../../scripts/engines/catalog.ts';
import { onPath } from '../../scripts/engines/shims.ts';
import { engineById, engineUnavailableReason, PAGE_ENGINE_IDS } from '../../scripts/harness/engine.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { registry } from '../../scripts/snippets/registry.ts';
import { requireAll } from '../../scripts/harness/require-all.ts';
import { ReportSchema } from '../../scripts/verify/report.ts';
import { runSnippet } from '../../scripts/verify/run-snippet.ts';

const root = join(import.meta.dirname, '..', '..');
/** The host's own programs (Debian's redis-server and redis-tools), outside the engine cache. */
const PROGRAMS = ['redis-server', 'redis-cli', 'redis-check-rdb', 'redis-check-aof', 'redis-benchmark'];
const host = new Map(
  PROGRAMS.flatMap((name) => {
    const found = onPath(name);
    return found ? [[name, found] as const] : [];
  }),
);
const hostSpec = engineSpecs.find((spec) => spec.kind === 'host');
/**
 * Every engine the pages are verified on but the host's own, that runs here (an engine whose page
 * differences are still pending, catalog `pagesPending`, is verified only when named: its blocks are
 * not expected to pass yet).
 */
const matrix = engineSpecs.filter((spec) => spec.kind !== 'host' && PAGE_ENGINE_IDS.includes(spec.id));
const others = matrix.filter((spec) => engineUnavailableReason(spec.id) === undefined).map((spec) => spec.id);
const missing = matrix.filter((spec) => engineUnavailableReason(spec.id) !== undefined).map((spec) => spec.id);
/**
 * The host flavors that start programs outside the harness's own server: a command or scenario that
 * runs its own server (service user, practice server), a checker or the benchmark. Blocks that use
 * several engines by design (crossEngine: the versions page) are left out: they run Redis 7.0 on purpose.
 */
const ids = [...registry.values()]
  // A block limited to some engines (the power-cut VM, systemd: Debian bookworm's package) does not run on the others.
  .filter((snippet) => snippet.flavors.host && !snippet.crossEngine && snippet.engines === undefined)
  .filter(
    (snippet) =>
      snippet.flavors.host?.server === false || /\b(redis|valkey)-(check|benchmark|server)/.test(snippet.flavors.host?.command ?? ''),
  )
  .map((snippet) => snippet.id);

let work: string;
let log: string;
let wrappers: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}fence-`));
  log = join(work, 'calls.log');
  wrappers = join(work, 'bin');
  await execa('mkdir', ['-p', wrappers]);
  await writeFile(log, '');
  // A logging wrapper for each host program, first on the PATH verify inherits.
  for (const [name, real] of host) {
    const path = join(wrappers, name);
    await writeFile(path, `#!/bin/sh\nprintf '%s\\n' "$0 $*" >> '${log}'\nexec '${real}' "$@"\n`);
    await chmod(path, 0o755);
  }
});
after(() => rm(work, { recursive: true, force: true }));

test(
  "verify of the host flavors on every other engine makes no call to the host's own Redis programs",
  { skip: host.has('redis-server') ? false : 'this machine has no redis-server of its own' },
  async () => {
    if (missing.length > 0 && requireAll()) assert.fail(`engines missing: ${missing.join(', ')} (PLAYBOOK_REQUIRE_ALL=1)`);
    assert.ok(others.length > 0, "at least one engine besides the host's");
    const PATH = `${wrappers}${delimiter}${process.env.PATH ?? ''}`;
    // The wrappers log: the control.
    await execa('redis-cli', ['--version'], { env: { PATH } });
    assert.match(await readFile(log, 'utf8'), /redis-cli --version/);
    await writeFile(log, '');

    const report = join(work, 'verify.json');
    const run = await execa(
      process.execPath,
      ['scripts/verify/main.ts', '--only', ids.join(','), '--engines', others.join(','), '--flavor', 'host', '--report', report],
      {
        cwd: root,
        env: { PATH },
        reject: false,
        all: true,
        timeout: 900_000,
      },
    );
    assert.equal(run.exitCode, 0, run.all);
    assert.equal(await readFile(log, 'utf8'), '', "no call reached the host's own programs");
    const { results } = ReportSchema.parse(JSON.parse(await readFile(report, 'utf8')));
    assert.equal(results.length, ids.length * others.length);
    for (const result of results) {
      const spec = engineSpecs.find((candidate) => candidate.id === result.engineId);
      assert.equal(result.status, 'passed', `${result.id} on ${result.engineId}`);
      assert.equal(result.server?.product, spec?.product, `${result.id} on ${result.engineId}: ${result.server?.line}`);
      assert.equal(result.server?.version, spec?.version, `${result.id} on ${result.engineId}: ${result.server?.line}`);
    }
  },
);

test(
  'a result whose answering server is not the engine it is filed under fails',
  { skip: hostSpec ? false : 'no host engine' },
  async () => {
    // The host's Redis 7.0 programs filed as Valkey 8.1: what the MISCONF blocks did before.
    const redis = engineById('redis-7.0');
    const impostor = { ...redis, id: 'valkey-8.1', product: 'valkey' as const, version: '8.1.1', label: 'Valkey 8.1' };
    const snippet = registry.get('trouble-misconf-status');
    assert.ok(snippet?.flavors.host);
    const result = await runSnippet(snippet, 'host', snippet.flavors.host, impostor);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /answered by Redis 7\.0\.15 .*not by the engine this result is filed under \(valkey-8\.1/);
    assert.equal(result.server?.version, '7.0.15', 'the report names what answered');
  },
);
