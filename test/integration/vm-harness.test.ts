import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { requireAll } from '../../scripts/harness/require-all.ts';
import { requireVmTools } from '../../scripts/harness/vm/available.ts';
import { createDataDisk } from '../../scripts/harness/vm/data-disk.ts';
import { readVmImage } from '../../scripts/harness/vm/image.ts';
import { startVm } from '../../scripts/harness/vm/machine.ts';

/** Why the VM cannot run here (skipped), or false: it can, or everything is required and the test fails instead. */
async function vmSkip(): Promise<string | false> {
  if (requireAll()) return false;
  try {
    requireVmTools();
  } catch (error) {
    return (error as Error).message;
  }
  return (await readVmImage()) ? false : 'no VM image in the engine cache (npm run vm-image builds it)';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(
  'the power-loss VM boots Redis 7.0 on its own data disk, answers on the host loopback, and disposing it ends qemu',
  { skip: await vmSkip(), timeout: 300_000 },
  async () => {
    requireVmTools();
    const image = await readVmImage();
    assert.ok(image, 'the VM image is in the engine cache (npm run vm-image)');
    const dir = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}vm-test-`));
    let pid: number | undefined;
    try {
      const dataDisk = await createDataDisk(dir, 'port 6379\nbind 0.0.0.0\nprotected-mode no\ndir /data\nappendonly yes\nsave ""');
      {
        await using vm = await startVm({ image, dataDisk, dir, name: 'test' });
        pid = vm.pid;
        assert.ok(pid !== undefined && alive(pid), 'qemu runs');
        await vm.waitForRedis();
        const client = new Redis({ host: '127.0.0.1', port: vm.port, lazyConnect: true, retryStrategy: () => null });
        await client.connect();
        try {
          assert.match(await client.info('server'), /^redis_version:7\.0\.\d+/m);
          assert.deepEqual(await client.config('GET', 'dir'), ['dir', '/data']);
          assert.deepEqual(await client.config('GET', 'appendonly'), ['appendonly', 'yes']);
        } finally {
          client.disconnect();
        }
        const facts = await vm.facts();
        assert.equal(facts.kernel, image.kernelRelease);
        assert.match(facts.dataMount, /^\/dev\/vdb \/data ext4 /);
        assert.equal(facts.sysctl['vm.dirty_expire_centisecs'], 3000, 'the kernel default');
      }
      assert.ok(!alive(pid), 'qemu is gone once the VM is disposed');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal(existsSync(dir), false, 'the run dir and its data disk are removed');
  },
);
