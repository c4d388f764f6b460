import { existsSync, readFileSync, renameSync, writeFileSync, type WriteFileOptions } from 'node:fs';
import { open, rename, rm, writeFile } from 'node:fs/promises';

/** The temp file beside `path` that a write goes to first (same dir, so the rename stays on one file system). */
function tempBeside(path: string): string {
  return `${path}.${process.pid}.tmp`;
}

/**
 * Writes `path` so that a reader sees the old content or the new one, never a part: a temp file
 * beside it, then a rename over it. The temp file is removed when the write fails.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options?: { mode?: number; encoding?: BufferEncoding; sync?: boolean },
): Promise<void> {
  const temp = tempBeside(path);
  const { sync = false, ...writeOptions } = options ?? {};
  try {
    if (sync) {
      // Flushed before the rename: after a crash the name holds the old content or the whole new one.
      const handle = await open(temp, 'w', writeOptions.mode ?? 0o644);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } else {
      await writeFile(temp, data, writeOptions);
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** {@link writeFileAtomic}, synchronously (module-load time: engine shims, checker scripts). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, options?: WriteFileOptions): void {
  const temp = tempBeside(path);
  writeFileSync(temp, data, options);
  renameSync(temp, path);
}

/** Writes `text` to `path` atomically unless the file already holds exactly it (generated scripts: shims, checkers). */
export function writeIfChangedSync(path: string, text: string, mode = 0o755): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  writeFileAtomicSync(path, text, { mode });
}
