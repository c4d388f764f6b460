import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Redis } from 'ioredis';
import type { Engine } from '../engines/engine.ts';
import type { DisposableRedis } from '../harness/redis-server.ts';
import { fatal, waitFor } from '../harness/wait.ts';
import { aofManifestName, baseOnlyManifest } from '../redis/aof.ts';
import { flattenInfo, parseInfo } from '../redis/info.ts';

/** How often the raw side polls INFO: the same 50 ms as the playbook's BGSAVE wait. */
const POLL_MS = 50;

async function persistence(client: Redis): Promise<Record<string, string>> {
  return flattenInfo(parseInfo(await client.info('persistence')));
}

/** Times the steps of one raw run: `step(name, work)` runs `work` and adds its seconds under `name`. */
function stepTimer() {
  const phases: Record<string, number> = {};
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      phases[name] = (phases[name] ?? 0) + (performance.now() - started) / 1000;
    }
  };
  return { phases, step };
}

/**
 * `sync` of every file and dir under `dir` (coreutils `sync FILE…`: one fsync each). The playbook's
 * backup and restore return only once their copies are on disk (fsync), as a backup or a restore
 * must: a power cut must not take back what they reported done. Without this, the raw side's `cp`
 * returns with the copy still in dirty pages, and the disk writes it after the clock stopped (the
 * untimed `sync` between rounds), so the raw side was timed without the disk writes the other pays.
 */
export async function syncCopies(dir: string): Promise<void> {
  const paths = [dir];
  for (const entry of await readdir(dir, { recursive: true })) paths.push(join(dir, entry));
  await execa('sync', paths);
}

/** SHA-256 of a file by `openssl dgst` (the OpenSSL code Node's crypto runs for the playbook: the same work at the same speed). */
async function sha256(path: string): Promise<string> {
  const { stdout } = await execa('openssl', ['dgst', '-sha256', '-r', path]);
  return stdout.split(' ')[0] as string;
}

/**
 * The same backup as the playbook's, by hand, step after step: note LASTSAVE, `BGSAVE`, poll until
 * LASTSAVE changed and `rdb_bgsave_in_progress:0`, `cp` the snapshot (and, on an AOF server, `cp -r`
 * the AOF dir), `sync` the copies (see {@link syncCopies}), check them with the engine's
 * redis-check-rdb (and redis-check-aof), and take their SHA-256: what the playbook's backup does
 * (its manifest records the checks and the checksums), without overlapping the steps. Returns the
 * seconds of each step.
 * It lets the clock pass LASTSAVE first, as it must (1-second resolution): without that, a save
 * finishing in the same second as the previous one never looks done. With rounds seconds apart this
 * costs nothing.
 */
export async function rawBackup(
  client: Redis,
  engine: Engine,
  files: { rdb: string; aofDir?: string },
  dest: string,
): Promise<Record<string, number>> {
  const { phases, step } = stepTimer();
  await step('save', async () => {
    const before = await client.lastsave();
    await waitFor(() => Math.floor(Date.now() / 1000) > before, { what: 'the clock to pass LASTSAVE', intervalMs: POLL_MS });
    await client.bgsave();
    await waitFor(
      async () => {
        const info = await persistence(client);
        if (info.rdb_bgsave_in_progress !== '0') return false;
        if (info.rdb_last_bgsave_status !== 'ok') throw fatal('the raw BGSAVE failed (rdb_last_bgsave_status:err)');
        return Number(info.rdb_last_save_time) > before;
      },
      { what: 'the raw BGSAVE to complete', timeoutMs: 3_600_000, intervalMs: POLL_MS },
    );
  });
  const rdb = join(dest, 'dump.rdb');
  const aofDir = join(dest, 'appendonlydir');
  await step('cp', async () => {
    await mkdir(dest, { recursive: true });
    await execa('cp', [files.rdb, rdb]);
    if (files.aofDir) await execa('cp', ['-r', files.aofDir, aofDir]);
  });
  await step('sync', () => syncCopies(dest));
  await step('check', async () => {
    await execa(engine.checkRdb, [rdb]);
    if (files.aofDir) await execa(engine.checkAof, [join(aofDir, aofManifestName('appendonly.aof'))]);
  });
  await step('sha256', async () => {
    for (const entry of await readdir(dest, { recursive: true, withFileTypes: true }))
      if (entry.isFile()) await sha256(join(entry.parentPath, entry.name));
  });
  return phases;
}

/** Starts a stopped server on its data dir and waits until it answers PING and INFO says `loading:0`. */
export async function startLoaded(server: DisposableRedis): Promise<void> {
  await server.start();
  await waitFor(async () => (await server.info('persistence')).persistence?.loading === '0', {
    what: `redis-server on port ${server.port} to finish loading`,
    timeoutMs: 3_600_000,
  });
}

/**
 * The same restore-then-start as the playbook's, by hand: the SHA-256 of the backup's RDB compared
 * with its manifest's (the playbook's restore refuses a backup whose bytes changed), `cp` into the
 * server's (fresh) data dir, for an AOF server the offline procedure of redis-facts (the same bytes
 * also as the base of a new AOF dir with a one-line manifest, hard linked, as the playbook does),
 * `sync` (see {@link syncCopies}), and the start. Returns the seconds of each step.
 */
export async function rawRestoreStart(
  server: DisposableRedis,
  backupRdb: string,
  expectedSha256: string,
  appendonly: boolean,
): Promise<Record<string, number>> {
  const { phases, step } = stepTimer();
  await step('sha256', async () => {
    if ((await sha256(backupRdb)) !== expectedSha256) throw new Error(`${backupRdb} does not match its manifest's SHA-256`);
  });
  const rdb = join(server.dir, 'dump.rdb');
  await step('cp', async () => {
    await execa('cp', [backupRdb, rdb]);
    if (appendonly) {
      const aofDir = join(server.dir, 'appendonlydir');
      const { baseFile, text } = baseOnlyManifest('appendonly.aof');
      await mkdir(aofDir);
      await execa('ln', [rdb, join(aofDir, baseFile)]);
      await writeFile(join(aofDir, aofManifestName('appendonly.aof')), text);
    }
  });
  await step('sync', () => syncCopies(server.dir));
  await step('start+load', () => startLoaded(server));
  return phases;
}
