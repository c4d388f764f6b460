import { readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Astro's output directory of this project. */
export const distDir = fileURLToPath(new URL('../../dist/', import.meta.url));

/** A page of the built site. */
export interface BuiltPageFile {
  /** URL path it is served at, `/recovery/rollback/`. */
  path: string;
  /** Absolute path of its HTML file. */
  file: string;
}

/**
 * The pages of a built site: every `index.html` under `dir` (the 404 page is `404.html`, so it is not
 * one), in path order. Throws, saying to build first, when there are none.
 */
export function builtPageFiles(dir = distDir): BuiltPageFile[] {
  let files: string[];
  try {
    files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
      (file) => file === 'index.html' || file.endsWith(`${sep}index.html`),
    );
  } catch (error) {
    throw new Error(`No built site in ${dir}: run npm run build first`, { cause: error });
  }
  if (files.length === 0) throw new Error(`No pages in ${dir}: run npm run build first`);
  return files
    .map((file) => ({ path: `/${file.split(sep).slice(0, -1).join('/')}/`.replace(/^\/\/$/, '/'), file: join(dir, file) }))
    .sort((a, b) => a.path.localeCompare(b.path));
}
