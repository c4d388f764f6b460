import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { causeChain, PlaybookError } from './errors.ts';

/** `1234567` → `1.2 MB` (decimal units, as `df -H` and disk vendors count). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Free space on the file system that holds `path`, and where that file system is mounted. */
export interface FreeSpace {
  /** Bytes a non-root writer may still use (`f_bavail`: what `df` shows as available). */
  free: number;
  /** The mount point: the topmost dir above `path` on the same device. */
  mount: string;
}

/** {@link FreeSpace} of the file system holding `path` (an existing dir). */
export async function freeSpace(path: string): Promise<FreeSpace> {
  const fs = await statfs(path);
  const device = (await stat(path)).dev;
  let mount = path;
  for (let parent = dirname(mount); parent !== mount; mount = parent, parent = dirname(parent)) {
    if ((await stat(parent)).dev !== device) break;
  }
  return { free: fs.bavail * fs.bsize, mount };
}

/**
 * Throws a one-line `io` error when the file system of `dir` has less than `needed` bytes free, before
 * anything is written: "needs 92 MB, 24 MB free on /mnt/backups".
 */
export async function assertFreeSpace(dir: string, needed: number, what: string): Promise<FreeSpace> {
  const space = await freeSpace(dir);
  if (space.free < needed) {
    throw new PlaybookError(
      'io',
      `Not enough space for ${what} in ${dir}: needs ${formatBytes(needed)}, ${formatBytes(space.free)} free on ${space.mount}`,
    );
  }
  return space;
}

/** The disk-full error somewhere in `error`'s cause chain (ENOSPC, EDQUOT, or docker's "no space left on device"). */
export function isDiskFull(error: unknown): boolean {
  for (const cause of causeChain(error)) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT' || /no space left on device|disk quota exceeded/i.test(cause.message)) return true;
  }
  return false;
}
