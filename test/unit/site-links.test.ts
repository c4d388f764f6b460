import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { anchorHrefs, checkLinks, fragmentTargets } from '../../scripts/site/links.ts';

/** A built site in a temp dir: path under dist → HTML. */
async function site(files: Record<string, string>): Promise<AsyncDisposable & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'playbook-links-'));
  for (const [path, html] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), html);
  }
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

const page = (body: string) => `<!doctype html><html><body><div id="_top"></div>${body}</body></html>`;

describe('checkLinks', () => {
  it('passes links to existing pages and ids, relative and absolute, and ignores other origins', async () => {
    await using built = await site({
      'index.html': page(
        '<a href="/guide/">Guide</a> <a href="guide/#steps">Steps</a> <a href="https://redis.io/docs/">Redis</a> <a href="mailto:a@b.c">Mail</a>',
      ),
      'guide/index.html': page('<h2 id="steps">Steps</h2><a href="#_top">Top</a> <a href="../">Home</a> <a href="/_astro/x.css">CSS</a>'),
      '_astro/x.css': 'body{}',
    });
    const result = await checkLinks(built.dir);
    assert.deepEqual(result.broken, []);
    assert.equal(result.pages, 2);
    assert.equal(result.links, 5);
  });

  it('reports a link to a missing page and to a missing #anchor, with the page that holds it', async () => {
    await using built = await site({
      'index.html': page('<a href="/gide/">Typo</a> <a href="/guide/#step">Wrong anchor</a>'),
      'guide/index.html': page('<h2 id="steps">Steps</h2>'),
    });
    assert.deepEqual((await checkLinks(built.dir)).broken, [
      { page: '/', href: '/gide/', problem: 'no page' },
      { page: '/', href: '/guide/#step', problem: 'no element with id "step" on /guide/' },
    ]);
  });

  it('reads attributes only from markup: not from scripts, and with entities and encoded fragments decoded', async () => {
    const html = page(
      '<script>const s = \'<a href="/nowhere/">\';</script><a class="x" href="/a/?x=1&amp;y=2#caf%C3%A9">A</a><h2 id="café">Café</h2>',
    );
    assert.deepEqual(anchorHrefs(html), ['/a/?x=1&y=2#caf%C3%A9']);
    assert.ok(fragmentTargets(html).has('café'));
    await using built = await site({ 'index.html': html, 'a/index.html': page('<h2 id="café">Café</h2>') });
    assert.deepEqual((await checkLinks(built.dir)).broken, []);
  });
});
