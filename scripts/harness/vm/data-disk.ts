/**
 * The data disk of a power-loss run: a raw image, formatted ext4 with mkfs.ext4's defaults (the guest
 * mounts it with the kernel's: data=ordered, a journal commit every 5 s, delayed allocation), holding
 * the run's `redis.conf`. The same file is the guest's /data on both boots, before and after the cut.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** Size of the data disk: room for a few hundred MB of AOF. */
const DATA_DISK_MB = 512;

/** Creates `<dir>/data.img` holding `redis.conf` with `conf` and returns its path. */
export async function createDataDisk(dir: string, conf: string): Promise<string> {
  const content = join(dir, 'data-content');
  await mkdir(content, { recursive: true });
  await writeFile(join(content, 'redis.conf'), conf.endsWith('\n') ? conf : `${conf}\n`);
  const image = join(dir, 'data.img');
  const result = await execa('mkfs.ext4', ['-q', '-F', '-L', 'playbook-data', '-d', content, image, `${DATA_DISK_MB}M`], {
    reject: false,
    all: true,
    env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
  });
  if (result.exitCode !== 0) throw new Error(`mkfs.ext4 of the VM's data disk failed (exit ${result.exitCode}): ${result.all.trim()}`);
  return image;
}
