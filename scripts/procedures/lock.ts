import { randomBytes } from 'node:crypto';
import { link, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { PlaybookError } from './errors.ts';

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

/** Whether process `pid` of this machine is alive (EPERM: alive, another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(holder: LockHolder): string {
  return `redis-playbook ${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`;
}

/**
 * Takes the data dir for this run: a lock file created atomically (a hard link of a complete temp file,
 * so no reader ever sees it half-written). A second restore or backup of the same dir refuses with a
 * `state` error naming the holder. A lock left by a run that died (its pid gone on this host) is taken
 * over; one from another host is never guessed at. Release with `await using`.
 *
 * `optional`: where the dir cannot be written (a backup run by a user who may only read it), go on
 * without a lock, still refusing while another run holds one.
 */
export async function lockDataDir(dir: string, command: string, options: { optional?: boolean } = {}): Promise<AsyncDisposable> {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, command, host: hostname(), since: new Date().toISOString() };
  const temp = join(dir, `${LOCK_FILE}.${process.pid}-${randomBytes(3).toString('hex')}`);
  const released = { [Symbol.asyncDispose]: async () => undefined };
  try {
    await writeFile(temp, `${JSON.stringify(me)}\n`, { flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (options.optional && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) {
      const holder = await readHolder(path);
      if (typeof holder === 'object' && (holder.host !== me.host || alive(holder.pid))) {
        throw new PlaybookError('state', `${dir} is in use by ${describe(holder)}: wait for it to finish`);
      }
      return released;
    }
    const why = code === 'EROFS' ? 'its file system is read-only' : code === 'ENOSPC' ? 'its disk is full' : (error as Error).message;
    throw new PlaybookError('io', `Cannot write in ${dir}: ${why}`, { cause: error });
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new PlaybookError('io', `Cannot create ${path}: ${(error as Error).message}`, { cause: error });
        if (attempt >= 3) throw new PlaybookError('state', `${dir} is being locked and released by other runs again and again: try again`);
      }
      const holder = await readHolder(path);
      if (holder === 'missing') continue; // released meanwhile
      if (holder === 'foreign') {
        throw new PlaybookError('state', `${dir} holds a lock file ${LOCK_FILE} that is not redis-playbook's: remove it if no backup or restore runs`);
      }
      if (holder.host !== me.host || alive(holder.pid)) {
        throw new PlaybookError('state', `${dir} is in use by ${describe(holder)}: wait for it to finish${holder.host === me.host ? '' : `, or remove ${path} if that run is gone`}`);
      }
      // The holder died on this machine (killed, or the machine restarted): its lock is stale.
      await unlink(path).catch(() => undefined);
    }
  } finally {
    await rm(temp, { force: true });
  }
  return {
    async [Symbol.asyncDispose]() {
      // Only our own lock: another run may have taken over a lock it found stale.
      const holder = await readHolder(path);
      if (typeof holder === 'object' && holder.pid === me.pid && holder.host === me.host && holder.since === me.since) await unlink(path).catch(() => undefined);
    },
  };
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
