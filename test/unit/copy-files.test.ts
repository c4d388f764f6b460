import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, open, readdir, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { copyAlongsideDigest, copyWithDigest, digestFile, openUnnamedFile, WriteBack } from '../../scripts/procedures/files.ts';

async function scratch(): Promise<AsyncDisposable & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

test('a copy of a file still being appended to waits for the writer and ends with every byte', async () => {
  await using tmp = await scratch();
  const src = join(tmp.dir, 'growing');
  await writeFile(src, Buffer.alloc(3 << 20, 1));
  const writer = (async () => {
    for (let i = 2; i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      await appendFile(src, Buffer.alloc(700_001, i));
    }
  })();
  const digest = await copyWithDigest(src, join(tmp.dir, 'copy'), { growing: writer });
  const bytes = await readFile(src);
  assert.deepEqual(digest, { size: bytes.length, sha256: sha256(bytes) });
  assert.deepEqual(await readFile(join(tmp.dir, 'copy')), bytes);
});

test('a copy feeds every byte, in order, to a tee as well', async () => {
  await using tmp = await scratch();
  const src = join(tmp.dir, 'src');
  const bytes = Buffer.alloc((5 << 20) + 123);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 251;
  await writeFile(src, bytes);
  const tee = await open(join(tmp.dir, 'tee'), 'w');
  await copyWithDigest(src, join(tmp.dir, 'copy'), { tee });
  await tee.close();
  assert.deepEqual(await readFile(join(tmp.dir, 'tee')), bytes);
});

test(
  'an unnamed file shows nowhere in its directory until it is linked, then holds what was written',
  { skip: process.platform !== 'linux' },
  async () => {
    await using tmp = await scratch();
    const src = join(tmp.dir, 'src');
    await writeFile(src, 'snapshot bytes');
    const dir = join(tmp.dir, 'data');
    await mkdir(dir);
    const unnamed = await openUnnamedFile(dir);
    assert.ok(unnamed, 'this file system supports O_TMPFILE');
    await using _ = unnamed.handle;
    await copyWithDigest(src, unnamed.handle);
    assert.deepEqual(await readdir(dir), []);
    await unnamed.linkAs(join(dir, 'dump.rdb'));
    assert.deepEqual(await readdir(dir), ['dump.rdb']);
    assert.equal(await readFile(join(dir, 'dump.rdb'), 'utf8'), 'snapshot bytes');
  },
);

/** Bytes that differ from chunk to chunk (a reused buffer left with old bytes would show). */
function pattern(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4096) bytes.writeUInt32LE(i, i);
  for (let i = 0; i < size; i++) bytes[i] = (bytes[i] ?? 0) ^ (i % 253);
  return bytes;
}

test('a copy long enough to reuse its chunk buffers and start write-backs keeps every byte, in the copy and the tee', async () => {
  await using tmp = await scratch();
  const src = join(tmp.dir, 'src');
  const bytes = pattern((45 << 20) + 4321);
  await writeFile(src, bytes);
  const tee = await open(join(tmp.dir, 'tee'), 'w');
  const digest = await copyWithDigest(src, join(tmp.dir, 'copy'), { tee });
  await tee.close();
  assert.deepEqual(digest, { size: bytes.length, sha256: sha256(bytes) });
  assert.ok((await readFile(join(tmp.dir, 'copy'))).equals(bytes));
  assert.ok((await readFile(join(tmp.dir, 'tee'))).equals(bytes));
});

test('the checksum of a file is that of its bytes, whatever its size against the chunk size', async () => {
  await using tmp = await scratch();
  for (const size of [0, 1, 1 << 20, (1 << 20) + 1, (3 << 20) - 7]) {
    const bytes = pattern(size);
    await writeFile(join(tmp.dir, `f${size}`), bytes);
    assert.deepEqual(await digestFile(join(tmp.dir, `f${size}`)), { size, sha256: sha256(bytes) }, `${size} bytes`);
  }
});

test('a kernel copy into an open file, hashed alongside, holds every byte', async () => {
  await using tmp = await scratch();
  const src = join(tmp.dir, 'src');
  const bytes = pattern((40 << 20) + 17);
  await writeFile(src, bytes);
  await using dest = await open(join(tmp.dir, 'dest'), 'w+');
  assert.deepEqual(await copyAlongsideDigest(src, dest), { size: bytes.length, sha256: sha256(bytes) });
  assert.ok((await readFile(join(tmp.dir, 'dest'))).equals(bytes));
});

test('a write-back error is thrown by the final sync, never lost', async () => {
  const failing = {
    datasync: () => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })),
    sync: () => Promise.resolve(),
  };
  const writeBack = new WriteBack(failing as unknown as FileHandle);
  writeBack.start();
  await assert.rejects(writeBack.finish(), /EIO/);
  await assert.rejects(new WriteBack(failing as unknown as FileHandle).during(Promise.resolve()), /EIO/);
});
