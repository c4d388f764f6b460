import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { prepareContainer, RedisContainer } from '../../harness/docker/container.ts';
import { docker } from '../../harness/docker/exec.ts';
import type { ContainerOptions } from '../../harness/docker/options.ts';
import { parseAofManifest } from '../../redis/aof.ts';
import { writeUsers } from './damaged-files.ts';
import { engineTraits } from '../../engines/catalog.ts';
import { lastIncrLine } from '../variants.ts';

/**
 * The fixtures of damaged-files.ts for Docker flavors: the server is a {@link RedisContainer}, its
 * files in a named volume at /data. A file is damaged by copying it out (`docker cp`), applying the
 * same damage as on a host, and copying it back; a start that fails is a container that exits, its
 * reason in `docker logs`.
 */

/** Runs `sh -ec SCRIPT` in a throwaway container of the server's image on its volume (at /data): {@link RedisContainer.onVolume}. */
export function onVolume(server: RedisContainer, script: string, input?: string): Promise<string> {
  return server.onVolume(script, input);
}

/** Copies `/data/<path>` out of the (stopped) container, applies `damage` to the copy, copies it back. */
export async function damageInVolume(server: RedisContainer, path: string, damage: (file: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(server.root, 'damage-'));
  try {
    const local = join(dir, basename(path));
    await docker(['cp', `${server.name}:${server.dir}/${path}`, local]);
    await damage(local);
    await docker(['cp', local, `${server.name}:${server.dir}/${path}`]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The AOF manifest in the volume, parsed. */
async function manifestInVolume(server: RedisContainer): Promise<ReturnType<typeof parseAofManifest>> {
  return parseAofManifest(await onVolume(server, 'cat /data/appendonlydir/appendonly.aof.manifest'));
}

/** Path (under /data) of the last incremental file of the AOF set in the volume. */
export async function lastIncrInVolume(server: RedisContainer): Promise<string> {
  const incr = (await manifestInVolume(server)).filter((entry) => entry.type === 'i').at(-1);
  assert.ok(incr, 'the AOF set has an incr file');
  return `appendonlydir/${incr.file}`;
}

/** Deletes the base file of the AOF set in the volume (a file "cleaned up" by hand). */
export async function removeBaseInVolume(server: RedisContainer): Promise<void> {
  const base = (await manifestInVolume(server)).find((entry) => entry.type === 'b');
  assert.ok(base, 'the AOF set has a base file');
  await onVolume(server, `rm /data/appendonlydir/${base.file}`);
}

/** Starts the stopped container and asserts that it exits instead, `docker logs` holding a line matching `line`. */
export async function assertContainerStartFails(server: RedisContainer, line: RegExp): Promise<void> {
  await assert.rejects(server.start(), /instead of starting/);
  assert.equal(await server.isRunning(), false, 'the container exited');
  assert.match(await server.logs(), line);
}

/** The `user:N` numbers the container holds, sorted. */
export async function containerUserNumbers(server: RedisContainer): Promise<number[]> {
  return server.withClient(async (client) => {
    const keys = await client.keys('user:*');
    return keys.map((key) => Number(key.slice('user:'.length))).sort((a, b) => a - b);
  });
}

/** An AOF container's users 1..20 (one write each in the incr file), a clean stop, then `damage` done to its incr file. */
export async function damagedAofInVolume(server: RedisContainer, damage: (incr: string) => Promise<void>): Promise<void> {
  await writeUsers(server, 1, 20);
  await server.stop();
  await damageInVolume(server, await lastIncrInVolume(server), damage);
}

/** What the integrity page's repair does, in a throwaway container: `redis-check-aof --fix` on a copy `appendonlydir.fix`. */
export async function fixCopyInVolume(server: RedisContainer): Promise<void> {
  // As the integrity page repairs it: the manifest, or where the checker misreads the RDB base (Valkey 9.1) the last incr file.
  const target = engineTraits(server.engine.id).checkAofMisreadsBase
    ? '"appendonlydir.fix/$incr"'
    : 'appendonlydir.fix/appendonly.aof.manifest';
  const out = await onVolume(
    server,
    [
      'cd /data',
      'cp -a appendonlydir appendonlydir.fix',
      lastIncrLine('appendonlydir/appendonly.aof.manifest'),
      `redis-check-aof --fix ${target}`,
    ].join('\n'),
    'y\n',
  );
  assert.match(out, /Successfully truncated AOF/);
}

/** Empties the volume of a stopped container (the files of an earlier fixture, the aside folders). */
export async function emptyVolume(server: RedisContainer): Promise<void> {
  assert.equal(await server.isRunning(), false);
  await onVolume(server, 'cd /data\nfor f in * .[!.]*; do if [ -e "$f" ]; then rm -rf "$f"; fi; done');
}

/** Names of the entries of `/data/<dir>` in the volume (`ls -A`), sorted. */
export async function volumeEntries(server: RedisContainer, dir = ''): Promise<string[]> {
  const out = await onVolume(server, `ls -A /data/${dir}`);
  return out
    .split('\n')
    .map((name) => name.trim())
    .filter(Boolean)
    .sort();
}

/**
 * A scratch container of the server's image (its own volume) started on a copy of the server's
 * `/data/dump.rdb` with `config`. Dispose it (`await using`).
 */
export async function scratchContainerOnDump(server: RedisContainer, config: ContainerOptions['config']): Promise<RedisContainer> {
  const dir = await mkdtemp(join(server.root, 'dump-'));
  const container = await prepareContainer({ config }, { image: server.image, engine: server.engine }, (init) => new RedisContainer(init));
  try {
    await docker(['cp', `${server.name}:${server.dir}/dump.rdb`, join(dir, 'dump.rdb')]);
    await container.create();
    await docker(['cp', join(dir, 'dump.rdb'), `${container.name}:${container.dir}/dump.rdb`]);
    await container.start();
    return container;
  } catch (error) {
    await container.dispose().catch(() => undefined);
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
