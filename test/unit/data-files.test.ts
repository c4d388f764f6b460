import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isThisMachine, listDataFiles, type DataFilesQuery } from '../../scripts/procedures/data-files.ts';

function query(overrides: Partial<DataFilesQuery>): DataFilesQuery {
  return {
    host: '127.0.0.1',
    processId: process.pid,
    dir: process.cwd(),
    dbfilename: 'dump.rdb',
    appenddirname: 'appendonlydir',
    appendfilename: 'appendonly.aof',
    ...overrides,
  };
}

test('loopback names and addresses are this machine; other hosts are not', () => {
  for (const host of ['127.0.0.1', '127.0.1.1', '::1', '::ffff:127.0.0.1', 'localhost']) assert.equal(isThisMachine(host), true, host);
  for (const host of ['203.0.113.7', 'cache.example.com']) assert.equal(isThisMachine(host), false, host);
});

test('a server on another host: files are "not readable from here", not an error', async () => {
  const files = await listDataFiles(query({ host: '203.0.113.7' }));
  assert.deepEqual(files, {
    readable: false,
    reason: 'the server runs on another host (203.0.113.7): run inspect on that host to see its files',
  });
});

test('a pid this machine does not see (a container): not readable from here', { skip: process.platform !== 'linux' }, async () => {
  const files = await listDataFiles(query({ processId: 2 ** 22 + 7 }));
  assert.equal(files.readable, false);
  assert.match(files.reason, /is not visible here: it probably runs in a container or a VM/);
});

test(
  'a pid whose working directory is not the reported dir (another process): not readable from here',
  { skip: process.platform !== 'linux' },
  async () => {
    const files = await listDataFiles(query({ processId: process.pid, dir: '/data' }));
    assert.equal(files.readable, false);
    assert.match(files.reason, /is not the server \(its directory is not \/data\)/);
  },
);

test('the local dir: dump.rdb and the AOF dir files with sizes, null for what is missing', async () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'redis-playbook-unit-')));
  const previous = process.cwd();
  try {
    process.chdir(root); // stands in for the server process, whose cwd is its dir
    writeFileSync(join(root, 'dump.rdb'), 'REDIS0010');
    const files = await listDataFiles(query({ dir: root }));
    assert.ok(files.readable);
    assert.equal(files.rdb?.size, 9);
    assert.equal(files.aofFiles, null);
    mkdirSync(join(root, 'appendonlydir'));
    writeFileSync(join(root, 'appendonlydir', 'appendonly.aof.manifest'), 'file appendonly.aof.1.base.rdb seq 1 type b\n');
    const withAof = await listDataFiles(query({ dir: root }));
    assert.ok(withAof.readable);
    assert.deepEqual(
      withAof.aofFiles?.map((file) => [file.name, file.size]),
      [['appendonly.aof.manifest', 44]],
    );
  } finally {
    process.chdir(previous);
    rmSync(root, { recursive: true, force: true });
  }
});
