import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint, forgetSources } from '../../scripts/snippets/fingerprint.ts';
import { getSnippet, registry } from '../../scripts/snippets/registry.ts';
import type { FlavorId } from '../../scripts/snippets/schema.ts';
import type { Result } from '../../scripts/verify/report.ts';
import { verifyBadge } from '../../src/lib/verify-badge.ts';

const projectRoot = join(import.meta.dirname, '..', '..');
const ID = 'persistence-status';
const snippet = getSnippet(ID);
let root: string;
const page = () => join(root, 'scripts', 'snippets', 'pages', 'snapshot-schedule.ts');

/** The fingerprint of the copy under `root` as it is now. */
function now(flavorId: FlavorId = 'host', engineId = 'redis-7.0', of = snippet): string {
  forgetSources();
  const flavor = of.flavors[flavorId];
  assert.ok(flavor);
  return fingerprint(of, flavorId, flavor, engineId, root);
}

/** Edits the copied page module (one exact occurrence), returns a function that puts it back. */
async function edit(file: string, from: string, to: string): Promise<() => Promise<void>> {
  const text = await readFile(file, 'utf8');
  assert.equal(text.split(from).length, 2, `exactly one "${from}" in ${file}`);
  await writeFile(file, text.replace(from, to));
  return () => writeFile(file, text);
}

before(async () => {
  // A copy of the snippet sources: edited by the tests, never the checkout's.
  root = await mkdtemp(join(tmpdir(), 'redis-playbook-fingerprint-'));
  for (const dir of ['snippets', 'data']) await cp(join(projectRoot, 'scripts', dir), join(root, 'scripts', dir), { recursive: true });
});
after(() => rm(root, { recursive: true, force: true }));

describe('fingerprint of a snippet flavor', () => {
  it('exists for every flavor of every snippet: each is a defineSnippet call with a literal id (the site build needs it)', () => {
    forgetSources();
    for (const each of registry.values()) {
      for (const [flavorId, flavor] of Object.entries(each.flavors) as [FlavorId, NonNullable<(typeof each.flavors)[FlavorId]>][]) {
        assert.match(fingerprint(each, flavorId, flavor, 'redis-7.0', projectRoot), /^[0-9a-f]{64}$/, `${each.id} (${flavorId})`);
      }
    }
  });

  it("is the same for the same definition, and the checkout's equals its copy's", () => {
    assert.equal(now(), now());
    forgetSources();
    const flavor = snippet.flavors.host;
    assert.ok(flavor);
    assert.equal(fingerprint(snippet, 'host', flavor, 'redis-7.0', projectRoot), now());
  });

  it('changes with only the server config (its source text, or its value)', async () => {
    const before = now();
    const restore = await edit(
      page(),
      `server: { config: { save: seedSaveRules, appendonly: 'yes' } },`,
      `server: { config: { save: seedSaveRules, appendonly: 'no' } },`,
    );
    assert.notEqual(now(), before, 'config edited in the page module');
    await restore();
    assert.equal(now(), before);
    const host = snippet.flavors.host;
    assert.ok(host && host.server !== false);
    const changed = {
      ...snippet,
      flavors: { ...snippet.flavors, host: { ...host, server: { ...host.server, config: { save: '900 1' } } } },
    };
    assert.notEqual(now('host', 'redis-7.0', changed), before, 'another config value');
  });

  it('changes with only the verify code, and only for that flavor', async () => {
    const [host, docker] = [now('host'), now('docker')];
    const restore = await edit(page(), `assert.equal(exitCode, 0);\n          checkStatus(stdout, Number(`, `checkStatus(stdout, Number(`);
    assert.notEqual(now('host'), host, 'the host verify lost a check');
    assert.equal(now('docker'), docker, 'the docker flavor is unchanged');
    await restore();
  });

  it('changes with the command, the placeholder values shown, and the engine', () => {
    const base = now();
    const host = snippet.flavors.host;
    assert.ok(host);
    const withCommand = {
      ...snippet,
      flavors: { ...snippet.flavors, host: { ...host, command: 'redis-cli -p {{port}} CONFIG GET save' } },
    };
    assert.notEqual(now('host', 'redis-7.0', withCommand), base);
    assert.notEqual(now('host', 'valkey-8.1'), base);
  });

  it("changes with the page's helpers and the modules it imports, not with another block of the page", async () => {
    const base = now();
    // The re-export under scripts/snippets, and the data-only module it re-exports.
    for (const placeholders of [join(root, 'scripts', 'snippets', 'placeholders.ts'), join(root, 'scripts', 'data', 'placeholders.ts')]) {
      const original = await readFile(placeholders, 'utf8');
      await writeFile(placeholders, `// a change\n${original}`);
      assert.notEqual(now(), base, `an imported module changed: ${placeholders}`);
      await writeFile(placeholders, original);
    }
    let restore = await edit(page(), `id: '${ID}'`, `id: '${ID}' /* here */`);
    assert.equal(now(), base, 'the id line is outside the flavor');
    await restore();
    const text = await readFile(page(), 'utf8');
    const other = /id: '([a-z-]+)'/.exec(text.slice(0, text.indexOf(`id: '${ID}'`)))?.[1];
    assert.ok(other && other !== ID, 'another block on the page');
    restore = await edit(page(), `id: '${other}',`, `id: '${other}', // edited\n    title: 'x',\n    page: page,`);
    assert.equal(now(), base, 'another block of the page changed');
    await restore();
  });
});

describe('a badge follows the fingerprint', () => {
  it('says Not verified when only the server config changed since the run', async () => {
    const verified = now();
    const result: Result = {
      id: ID,
      flavor: 'host',
      page: snippet.page,
      command: snippet.flavors.host?.command ?? '',
      fingerprint: verified,
      status: 'passed',
      engine: 'redis',
      engineId: 'redis-7.0',
      version: '7.0.15',
      durationMs: 300,
      verifiedAt: '2026-12-05T01:00:00.000Z',
      output: '',
    };
    const isCurrent = (candidate: Result) => candidate.fingerprint === now('host', candidate.engineId);
    assert.equal(verifyBadge([result], isCurrent).status, 'passed');
    const restore = await edit(
      page(),
      `server: { config: { save: seedSaveRules, appendonly: 'yes' } },`,
      `server: { config: { save: seedSaveRules, appendonly: 'no' } },`,
    );
    try {
      assert.deepEqual(verifyBadge([result], isCurrent), {
        status: 'unverified',
        text: 'Not verified (changed since the last run)',
        variant: 'caution',
      });
      const { fingerprint: _none, ...old } = result;
      assert.equal(verifyBadge([old], isCurrent).status, 'unverified', 'a result without a fingerprint is never current');
    } finally {
      await restore();
    }
  });
});
