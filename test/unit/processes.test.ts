import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEMP_PREFIX } from '../../scripts/core/temp.ts';
import { checkProcesses, unboundStarts } from '../../scripts/lint/processes.ts';
import { writeTree } from '../support/tree.ts';

let root: string;

describe('processes lint', () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}processes-`));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('refuses execa and the asynchronous starts of child_process, by import or by load', () => {
    const problems = (text: string) => unboundStarts(text).map(({ line }) => line);
    assert.deepEqual(problems("import { execa } from 'execa';"), [1]);
    assert.deepEqual(problems("\nimport { $ as run } from 'execa';"), [2]);
    assert.deepEqual(problems("import * as cp from 'node:child_process';"), [1]);
    assert.deepEqual(problems("import { spawn, spawnSync } from 'node:child_process';"), [1]);
    assert.deepEqual(problems("import { execFile } from 'child_process';"), [1]);
    assert.deepEqual(problems("const { execa } = await import('execa');"), [1]);
    assert.match(
      unboundStarts("import { spawn } from 'node:child_process';")[0]?.problem ?? '',
      /spawn from node:child_process: start programs with exec\(\)/,
    );
  });

  it('lets through types, synchronous calls and the bound runner', () => {
    assert.deepEqual(unboundStarts("import type { Options } from 'execa';"), []);
    assert.deepEqual(unboundStarts("import { type ResultPromise } from 'execa';"), []);
    assert.deepEqual(unboundStarts("import { spawnSync } from 'node:child_process';"), []);
    assert.deepEqual(unboundStarts("import { exec } from '../exec.ts';\nawait exec('chown', ['redis', dir]);"), []);
  });

  it('names each file and line of each area, its runner and exceptions left out', async () => {
    const dir = join(root, 'tree');
    await writeTree(dir, {
      'scripts/snippets/exec.ts': "import { execa } from 'execa';\n",
      'scripts/snippets/pages/ok.ts': "import { exec } from '../exec.ts';\n",
      'scripts/snippets/pages/page.ts': "import assert from 'node:assert';\nimport { execa } from 'execa';\n",
      'scripts/core/run.ts': "import { execa } from 'execa';\n",
      'scripts/procedures/scratch-server.ts': "import { spawn } from 'node:child_process';\n",
      'scripts/procedures/backup.ts': "import { runProgram } from '../core/run.ts';\nimport { execa } from 'execa';\n",
      'scripts/cli/version.ts': "import { execFileSync } from 'node:child_process';\n",
      'scripts/harness/elsewhere.ts': "import { execa } from 'execa';\n",
    });
    const findings = checkProcesses(dir);
    assert.equal(findings.length, 2, findings.join('\n'));
    assert.match(findings[0] ?? '', /^scripts\/snippets\/pages\/page\.ts:2: imports execa: start programs with exec\(\)/);
    assert.match(findings[1] ?? '', /^scripts\/procedures\/backup\.ts:2: imports execa: start programs with runProgram\(\)/);
  });
});
