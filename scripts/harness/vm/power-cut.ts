/**
 * The power-cut scenario: Redis in the VM with the run's redis.conf; a client on the host writes
 * for `writeMs` and counts acknowledgements; qemu is killed while the writes still flow (the guest's
 * RAM and page cache are gone, what reached the data disk's file stays); the VM boots again from the
 * same data disk and the acknowledged keys still there are counted.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createDataDisk } from './data-disk.ts';
import { readVmImage } from './image.ts';
import { requireVmTools, VmUnavailableError } from './available.ts';
import { startVm, type GuestFacts } from './machine.ts';
import { writeKey, Writer } from './writer.ts';

export interface PowerCutOptions {
  /** The guest's redis.conf (its `dir` must be /data, the data disk). */
  conf: string;
  /** How long the client writes before the cut, in ms. */
  writeMs: number;
  /** A temp dir of the run (data disk, console logs; qemu's cwd). */
  dir: string;
  /** Called once Redis in the VM answers, with the forwarded port (to record who answered). */
  onReady?: (port: number) => Promise<void>;
}

export interface PowerCutResult {
  /** Writes the client got `+OK` for before the cut. */
  acknowledged: number;
  /** Acknowledged writes found after the reboot. */
  survived: number;
  /** Acknowledged writes missing after the reboot. */
  lost: number;
  /** How long before the cut the lost writes were sent: from the first lost one to the last acknowledged one, ms. */
  lostWindowMs: number;
  /** Whether the survivors are exactly key:1 … key:<survived> (the AOF is replayed in order up to where it ends). */
  survivorsArePrefix: boolean;
  /** Writes sent but not acknowledged before the cut that were found after it. */
  unacknowledgedFound: number;
  /** From the first write to the cut, ms. */
  writeMs: number;
  /** From qemu's start to Redis's PONG, first boot and reboot, ms. */
  bootMs: number;
  rebootMs: number;
  /** What the guest said about its kernel, /data mount and vm.dirty_* settings (first boot). */
  guest: GuestFacts;
  /** kvm or tcg. */
  accelerator: 'kvm' | 'tcg';
  /** INFO server's redis_version in the VM. */
  redisVersion: string;
}

/** Keys checked per pipeline after the reboot. */
const CHECK_BATCH = 5_000;

async function withClient<T>(port: number, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/** Which of key:1 … key:<count> exist. */
async function existing(client: Redis, count: number): Promise<boolean[]> {
  const found: boolean[] = [];
  for (let first = 1; first <= count; first += CHECK_BATCH) {
    const pipeline = client.pipeline();
    for (let n = first; n < Math.min(first + CHECK_BATCH, count + 1); n++) pipeline.exists(writeKey(n));
    for (const [error, value] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      found.push(value === 1);
    }
  }
  return found;
}

/** Runs the scenario. Throws {@link VmUnavailableError} when qemu or the image is missing. */
export async function powerCut({ conf, writeMs, dir, onReady }: PowerCutOptions): Promise<PowerCutResult> {
  requireVmTools();
  const image = await readVmImage();
  if (!image) throw new VmUnavailableError('no VM image in the engine cache; `npm run vm-image` builds it');
  const dataDisk = await createDataDisk(dir, conf);

  let started = performance.now();
  await using first = await startVm({ image, dataDisk, dir, name: 'boot-1' });
  await first.waitForRedis();
  const bootMs = Math.round(performance.now() - started);
  const guest = await first.facts();
  const redisVersion = await withClient(
    first.port,
    async (client) => /^redis_version:(\S+)/m.exec(await client.info('server'))?.[1] ?? 'unknown',
  );
  await onReady?.(first.port);

  const writer = new Writer(first.port);
  let acknowledged: number;
  let cutAtMs: number;
  try {
    // The write window is the measurement's design (how long writes may sit in the guest's cache), not a wait for a state.
    await delay(writeMs);
    if (writer.acknowledged === 0) throw new Error(`No write was acknowledged in ${writeMs} ms\n${await first.tail()}`);
    cutAtMs = Math.round(writer.elapsedMs);
    await first.kill();
    acknowledged = await writer.closed();
  } finally {
    writer.destroy();
  }
  const accelerator = first.accelerator;

  started = performance.now();
  await using second = await startVm({ image, dataDisk, dir, name: 'boot-2' });
  await second.waitForRedis();
  const rebootMs = Math.round(performance.now() - started);
  const { found, size } = await withClient(second.port, async (client) => ({
    found: await existing(client, acknowledged),
    size: await client.dbsize(),
  }));
  const survived = found.filter(Boolean).length;
  const firstLost = found.indexOf(false) + 1;
  const lastSurvivor = found.lastIndexOf(true) + 1;
  return {
    acknowledged,
    survived,
    lost: acknowledged - survived,
    lostWindowMs: firstLost === 0 ? 0 : (writer.sentAt[acknowledged - 1] ?? 0) - (writer.sentAt[firstLost - 1] ?? 0),
    survivorsArePrefix: lastSurvivor === survived,
    unacknowledgedFound: size - survived,
    writeMs: cutAtMs,
    bootMs,
    rebootMs,
    guest,
    accelerator,
    redisVersion,
  };
}
