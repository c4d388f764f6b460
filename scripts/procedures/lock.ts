import { randomBytes } from 'node:crypto';
import { link, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { PlaybookError } from './errors.ts';
import { processAlive } from '../core/processes.ts';

/** The lock file a backup or restore keeps in the data dir while it works on it. */
export const LOCK_FILE = '.redis-playbook.lock';

/** Who holds a data dir: written into the lock file, read by the run that finds it taken. */
export const LockHolderSchema = z.object({
  /** Process id of the holder, on `host`. */
  pid: z.number().int().positive(),
  /** What it does ("restore", "backup"). */
  command: z.string(),
  /** The holder's host name: a pid means nothing on another machine (a data dir on shared storage). */
  host: z.string(),
  /** When it took the lock (ISO 8601, UTC). */
  since: z.string(),
});
export type LockHolder = z.infer<typeof LockHolderSchema>;

function describe(holder: LockHolder): string {
  return `redis-playbook ${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`;
}

/** The prefix of the lock files backups keep while they read the data dir (several may at once). */
export const SHARED_LOCK_PREFIX = '.redis-playbook.reading.';

/**
 * Takes the data dir for this run. A restore takes it alone (`exclusive`): the lock file `LOCK_FILE`,
 * created atomically (a hard link of a complete temp file, so no reader ever sees it half-written).
 * Backups only read it and may run side by side (`shared`): each keeps a file of its own
 * (`SHARED_LOCK_PREFIX…`). A restore refuses while a backup reads, a backup while a restore runs, each
 * with a `state` error naming the holder. Each side writes its own file before it looks for the
 * other's, so two that start together cannot both miss each other. A lock left by a run that died (its
 * pid gone on this host) is taken over; one from another host is never guessed at. Release with
 * `await using`.
 *
 * `optional`: where the dir cannot be written (a backup run by a user who may only read it), go on
 * without a lock, still refusing while a restore holds one.
 */
export async function lockDataDir(
  dir: string,
  command: string,
  options: { shared?: boolean; optional?: boolean } = {},
): Promise<AsyncDisposable> {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, command, host: hostname(), since: new Date().toISOString() };
  const own = join(dir, `${options.shared ? SHARED_LOCK_PREFIX : `${LOCK_FILE}.`}${process.pid}-${randomBytes(3).toString('hex')}`);
  const live = (holder: LockHolder) => holder.host !== me.host || processAlive(holder.pid);
  const inUse = (holder: LockHolder, file: string) =>
    new PlaybookError(
      'state',
      `${dir} is in use by ${describe(holder)}: wait for it to finish${holder.host === me.host ? '' : `, or remove ${file} if that run is gone`}`,
    );
  const foreign = () =>
    new PlaybookError(
      'state',
      `${dir} holds a lock file ${LOCK_FILE} that is not redis-playbook's: remove it if no backup or restore runs`,
    );
  /** Throws while a live restore holds the dir. */
  const assertNoRestore = async () => {
    const holder = await readHolder(path);
    if (holder === 'foreign') throw foreign();
    if (typeof holder === 'object' && live(holder)) throw inUse(holder, path);
  };

  try {
    await writeFile(own, `${JSON.stringify(me)}\n`, { flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (options.optional && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) {
      await assertNoRestore();
      return { [Symbol.asyncDispose]: () => Promise.resolve() };
    }
    const why = code === 'EROFS' ? 'its file system is read-only' : code === 'ENOSPC' ? 'its disk is full' : (error as Error).message;
    throw new PlaybookError('io', `Cannot write in ${dir}: ${why}`, { cause: error });
  }

  if (options.shared) {
    try {
      await assertNoRestore();
    } catch (error) {
      await rm(own, { force: true });
      throw error;
    }
    return { [Symbol.asyncDispose]: () => rm(own, { force: true }) };
  }

  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(own, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new PlaybookError('io', `Cannot create ${path}: ${(error as Error).message}`, { cause: error });
        if (attempt >= 3) throw new PlaybookError('state', `${dir} is being locked and released by other runs again and again: try again`);
      }
      const holder = await readHolder(path);
      if (holder === 'missing') continue; // released meanwhile
      if (holder === 'foreign') throw foreign();
      if (live(holder)) throw inUse(holder, path);
      // The holder died on this machine (killed, or the machine restarted): its lock is stale.
      await unlink(path).catch(() => undefined);
    }
  } finally {
    await rm(own, { force: true });
  }
  const release = async () => {
    // Only our own lock: another run may have taken over a lock it found stale.
    const holder = await readHolder(path);
    if (typeof holder === 'object' && holder.pid === me.pid && holder.host === me.host && holder.since === me.since)
      await unlink(path).catch(() => undefined);
  };
  // Backups reading the dir: a live one keeps it; a dead one's file is left over and goes.
  for (const name of await readdir(dir)) {
    if (!name.startsWith(SHARED_LOCK_PREFIX)) continue;
    const holder = await readHolder(join(dir, name));
    if (typeof holder === 'object' && live(holder)) {
      await release();
      throw inUse(holder, join(dir, name));
    }
    if (typeof holder === 'object') await rm(join(dir, name), { force: true });
  }
  return { [Symbol.asyncDispose]: release };
}

/** The holder named in the lock file at `path`; `missing` when there is none, `foreign` when it is not ours. */
async function readHolder(path: string): Promise<LockHolder | 'missing' | 'foreign'> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return 'missing';
  try {
    return LockHolderSchema.parse(JSON.parse(text));
  } catch {
    return 'foreign';
  }
}
