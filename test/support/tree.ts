import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Every file and dir under `root` with its content hash: equal maps mean a byte-identical tree. */
export async function treeDigest(root: string): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  const walk = async (dir: string, prefix: string) => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory()) {
        result.set(`${name}/`, 'dir');
        await walk(path, `${name}/`);
      } else {
        const info = await lstat(path);
        result.set(
          name,
          `${info.size}:${createHash('sha256')
            .update(await readFile(path))
            .digest('hex')}`,
        );
      }
    }
  };
  await walk(root, '');
  return result;
}

/** Writes the given files (path under `dir` → text) into `dir`, making the dirs they need; returns `dir`. */
export async function writeTree(dir: string, files: Record<string, string>): Promise<string> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}
