import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { copyWithDigest, openUnnamedFile } from '../../scripts/procedures/files.ts';

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

test('an unnamed file shows nowhere in its directory until it is linked, then holds what was written', { skip: process.platform !== 'linux' }, async () => {
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
});
