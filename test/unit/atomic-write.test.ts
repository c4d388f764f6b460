import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileAtomic, writeIfChangedSync } from '../../scripts/core/atomic-write.ts';
import { TEMP_PREFIX } from '../../scripts/core/temp.ts';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}atomic-`));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('atomic writes', () => {
  it('replace a file whole and leave no temp file beside it', async () => {
    const path = join(dir, 'report.json');
    await writeFile(path, 'old\n');
    await writeFileAtomic(path, 'new\n');
    assert.equal(await readFile(path, 'utf8'), 'new\n');
    assert.deepEqual(await readdir(dir), ['report.json']);
  });

  it('a failed write keeps the old file and removes its temp file', async () => {
    const path = join(dir, 'missing-dir', 'x.json');
    await assert.rejects(writeFileAtomic(path, 'x'), { code: 'ENOENT' });
    assert.deepEqual(await readdir(dir), ['report.json']);
  });

  it('writeIfChangedSync leaves a file that already holds the text untouched, and writes it executable otherwise', async () => {
    const path = join(dir, 'shim');
    writeIfChangedSync(path, '#!/bin/sh\n');
    const first = await stat(path);
    assert.equal(first.mode & 0o777, 0o755);
    writeIfChangedSync(path, '#!/bin/sh\n');
    assert.equal((await stat(path)).ino, first.ino);
    writeIfChangedSync(path, '#!/bin/sh\nexit 0\n');
    assert.notEqual((await stat(path)).ino, first.ino);
    assert.equal(await readFile(path, 'utf8'), '#!/bin/sh\nexit 0\n');
  });
});
