import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileSha256, loadFaultRows } from '../../scripts/faults/results.ts';
import type { FaultResult } from '../../scripts/faults/schema.ts';

test('a fault record is current while its test file is unchanged, and stale once it changes or is gone', async () => {
  const root = await mkdtemp(join(tmpdir(), 'faults-'));
  try {
    const dir = join(root, 'report', 'faults');
    await mkdir(dir, { recursive: true });
    await mkdir(join(root, 'test'));
    const testFile = join(root, 'test', 'case.test.ts');
    await writeFile(testFile, 'one version of the test\n');
    const record: FaultResult = {
      id: 'case.one',
      area: 'Disk and files',
      fault: 'a full disk',
      outcome: 'refused',
      exitCode: 6,
      dataLost: 'none',
      test: { file: 'test/case.test.ts', name: 'a case', sha256: fileSha256(testFile) },
      at: '2026-12-05T01:00:00.000Z',
    };
    await writeFile(join(dir, 'case.one.json'), JSON.stringify(record));
    assert.deepEqual(
      loadFaultRows(dir, root).map((row) => [row.id, row.stale]),
      [['case.one', false]],
    );
    await writeFile(testFile, 'another version of the test\n');
    assert.equal(loadFaultRows(dir, root)[0]?.stale, true);
    await rm(testFile);
    assert.equal(loadFaultRows(dir, root)[0]?.stale, true);
    assert.deepEqual(loadFaultRows(join(root, 'nothing'), root), []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a record that claims lost data is not a valid record', async () => {
  const root = await mkdtemp(join(tmpdir(), 'faults-'));
  try {
    await writeFile(
      join(root, 'bad.json'),
      JSON.stringify({
        id: 'bad',
        area: 'Load',
        fault: 'x',
        outcome: 'y',
        exitCode: 0,
        dataLost: '3 keys',
        test: { file: 'a', name: 'b', sha256: '0'.repeat(64) },
        at: '2026-12-05T01:00:00.000Z',
      }),
    );
    assert.throws(() => loadFaultRows(root, root), /dataLost/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
