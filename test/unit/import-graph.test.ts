import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TEMP_PREFIX } from '../../scripts/core/temp.ts';
import { checkImportGraph } from '../../scripts/lint/import-graph.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(repo, 'scripts', 'lint', 'import-graph.ts');

/** Runs the check as `npm run lint` does, on ROOT. */
function check(root: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, root], { cwd: repo }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

let root: string;
let count = 0;

/** A fresh fixture checkout holding the given files (path → source). */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = join(root, `tree-${++count}`);
  for (const [path, source] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), source);
  }
  return dir;
}

/** A small checkout whose imports all follow the layers. */
const clean: Record<string, string> = {
  'scripts/core/errors.ts': 'export class PlaybookError extends Error {}\n',
  'scripts/core/run.ts': "import { execa } from 'execa';\nimport { PlaybookError } from './errors.ts';\nexport { execa, PlaybookError };\n",
  'scripts/procedures/backup.ts': "import { PlaybookError } from '../core/errors.ts';\nexport const backup = () => PlaybookError;\n",
  'scripts/cli/main.ts': "import { backup } from '../procedures/backup.ts';\nexport default backup;\n",
  'scripts/harness/server.ts': "import { backup } from '../procedures/backup.ts';\nexport const start = backup;\n",
  'scripts/snippets/registry.ts': "import { start } from '../harness/server.ts';\nexport const registry = [start];\n",
  'scripts/data/report.ts': "import { z } from 'zod';\nexport const ReportSchema = z.object({});\n",
  'src/lib/site-report.ts': "import { ReportSchema } from '../../scripts/data/report.ts';\nexport { ReportSchema };\n",
  'src/components/Snippet.astro': "---\nimport { ReportSchema } from '../../scripts/data/report.ts';\n---\n<p>{String(ReportSchema)}</p>\n",
};

before(async () => {
  root = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}import-graph-`));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('import graph', () => {
  it('passes on this checkout', async () => {
    assert.deepEqual(checkImportGraph(repo), []);
    const run = await check(repo);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /every import follows the layers/);
  });

  it('passes on a fixture whose imports follow the layers', async () => {
    assert.deepEqual(checkImportGraph(await tree(clean)), []);
  });

  it('fails with one line per edge when the CLI or a procedure reaches the harness, the verifier or the snippets', async () => {
    const dir = await tree({
      ...clean,
      'scripts/cli/server-option.ts': "import { start } from '../harness/server.ts';\nexport { start };\n",
      'scripts/procedures/test-restore.ts': "export { registry } from '../snippets/registry.ts';\n",
      'scripts/verify/main.ts': 'export const main = 1;\n',
      'scripts/procedures/lazy.ts': "export const load = () => import('../verify/main.ts');\n",
    });
    const run = await check(dir);
    assert.equal(run.code, 1);
    const lines = run.stderr.trim().split('\n');
    assert.deepEqual(lines.slice(0, -1).sort(), [
      'scripts/cli/server-option.ts: imports scripts/harness/server.ts (cli/ may not import harness/ (it may import core, engines, redis, procedures))',
      'scripts/procedures/lazy.ts: imports scripts/verify/main.ts (procedures/ may not import verify/ (it may import core, engines, redis))',
      'scripts/procedures/test-restore.ts: imports scripts/snippets/registry.ts (procedures/ may not import snippets/ (it may import core, engines, redis))',
    ]);
    assert.equal(lines.at(-1), 'import-graph: 3 import(s) across the layers the wrong way');
  });

  it('fails when the core imports a layer above it, or a folder is no known layer', async () => {
    const wrong = checkImportGraph(
      await tree({
        ...clean,
        'scripts/core/wait.ts': "import { backup } from '../procedures/backup.ts';\nexport { backup };\n",
        'scripts/misc/helper.ts': "import { backup } from '../procedures/backup.ts';\nexport { backup };\n",
      }),
    );
    assert.deepEqual(wrong.map((edge) => `${edge.from} -> ${edge.to}`).sort(), [
      'scripts/core/wait.ts -> scripts/procedures/backup.ts',
      'scripts/misc/helper.ts -> scripts/procedures/backup.ts',
    ]);
    assert.match(wrong.find((edge) => edge.from.startsWith('scripts/misc'))?.rule ?? '', /misc\/ is no known layer/);
  });

  it('fails when the site imports the registry, or a data module that reaches a process runner', async () => {
    const wrong = checkImportGraph(
      await tree({
        ...clean,
        'scripts/harness/server.ts': "import { spawn } from 'node:child_process';\nexport const start = spawn;\n",
        'scripts/data/placeholders.ts': "import { execa } from '../core/run.ts';\nexport { execa };\n",
        'src/lib/command-parts.ts': "import { execa } from '../../scripts/data/placeholders.ts';\nexport { execa };\n",
        'src/components/QuickReference.astro':
          "---\nimport { registry } from '../../scripts/snippets/registry.ts';\n---\n<p>{registry.length}</p>\n",
      }),
    );
    assert.deepEqual(wrong.map((edge) => `${edge.from} -> ${edge.to}: ${edge.rule}`).sort(), [
      'src/components/QuickReference.astro -> scripts/snippets/registry.ts: the site loads node:child_process through it (scripts/snippets/registry.ts → scripts/harness/server.ts → node:child_process)',
      'src/components/QuickReference.astro -> scripts/snippets/registry.ts: the site may import only core, data, faults, site',
      'src/lib/command-parts.ts -> scripts/data/placeholders.ts: the site loads execa through it (scripts/data/placeholders.ts → scripts/core/run.ts → execa)',
    ]);
  });

  it('names an import of a file that does not exist', async () => {
    const wrong = checkImportGraph(
      await tree({ ...clean, 'scripts/cli/main.ts': "import { x } from '../procedures/gone.ts';\nexport default x;\n" }),
    );
    assert.deepEqual(wrong, [{ from: 'scripts/cli/main.ts', to: '../procedures/gone.ts', rule: 'no such file' }]);
  });

  it('exits 2 on a dir without scripts/', async () => {
    const run = await check(await tree({ 'README.md': 'nothing\n' }));
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^import-graph: no scripts\/ in /);
  });
});
