import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { TEMP_PREFIX } from '../../scripts/core/temp.ts';
import { checkSnippetFiles, definedIds } from '../../scripts/lint/snippet-files.ts';
import { writeTree } from '../support/tree.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(repo, 'scripts', 'lint', 'snippet-files.ts');

let root: string;
let count = 0;

/** A fresh fixture checkout holding the given files (path → text). */
const tree = (files: Record<string, string>) => writeTree(join(root, `tree-${++count}`), files);

const block = (id: string) => `export const s = [defineSnippet({ id: '${id}', title: 't', page, flavors: {} })];\n`;
const pages = { 'content/docs/persistence/what-a-crash-costs.mdx': '', 'content/docs/recovery/rollback.mdx': '' };
const pageOf = (id: string) => ({ drill: 'persistence/what-a-crash-costs', undo: 'recovery/rollback' })[id];

describe('snippet-files lint', () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}snippet-files-`));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads the literal ids of defineSnippet calls', () => {
    assert.deepEqual(definedIds(`${block('drill')}${block('undo')}const other = call({ id: 'x' });`), ['drill', 'undo']);
  });

  it("passes files named after their page, and a page's part files", async () => {
    const dir = await tree({
      ...pages,
      'scripts/snippets/pages/what-a-crash-costs.ts': block('drill'),
      'scripts/snippets/pages/rollback.docker.ts': 'export const flavor = {};\n',
    });
    assert.deepEqual(checkSnippetFiles(dir, pageOf), []);
  });

  it('names a file that is not a page, and a block on another page than its file', async () => {
    const dir = await tree({
      ...pages,
      'scripts/snippets/pages/crash-loss.ts': block('drill'),
      'scripts/snippets/pages/rollback.ts': block('drill'),
    });
    assert.deepEqual(
      checkSnippetFiles(dir, pageOf).map(({ file, problem }) => `${file}: ${problem.split(':')[0]}`),
      [
        'scripts/snippets/pages/crash-loss.ts: no page content/docs/*/crash-loss.mdx',
        'scripts/snippets/pages/rollback.ts: defines drill of page persistence/what-a-crash-costs',
      ],
    );
  });

  it('exits 2 with one line on a root without snippet pages', async () => {
    const dir = await tree({ 'README.md': '' });
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [script, dir], { cwd: repo }, (error, _stdout, err) => {
        resolve({ code: error ? Number(error.code) : 0, stderr: err });
      });
    });
    assert.equal(code, 2);
    assert.equal(stderr.trim().split('\n').length, 1);
  });
});
