#!/usr/bin/env node
/**
 * `node scripts/lint/import-graph.ts [ROOT]` (part of `npm run lint`): the layers of the project show
 * on disk, and no module imports across them the wrong way. Each folder of `scripts/` is a layer and
 * may import only the layers {@link LAYERS} lists for it (and itself): the operator CLI never reaches
 * the test harness, the verifier or the snippets. The site (`src/`, `astro.config.mjs`,
 * `ec.config.mjs`) may import only {@link SITE_LAYERS}, and nothing it loads, however deep, may load a
 * package that runs processes or opens connections ({@link RUNTIME_PACKAGES}).
 * Reads `import … from`, `import '…'`, `export … from` and `import('…')` with TypeScript's own
 * pre-processor, in .ts, .mjs and .astro files (frontmatter and scripts). Tests (`test/`) are not
 * checked: they may use every layer.
 * Prints one `file: imports target (rule)` line per wrong edge and exits 1; exits 0 with a summary
 * line otherwise, 2 when ROOT cannot be read.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * What each layer (a folder of `scripts/`) may import besides itself, lowest first. The operator's
 * side: core < engines < redis < procedures < cli. The proving side sits on top of it: harness (the
 * disposable servers and containers) < snippets (the command blocks and their verifications) < verify.
 * `data` holds the data-only views the site reads (schemas, ids, rendered text).
 */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  core: [],
  data: ['core'],
  engines: ['core'],
  redis: ['core', 'engines'],
  procedures: ['core', 'engines', 'redis'],
  cli: ['core', 'engines', 'redis', 'procedures'],
  faults: ['core', 'data'],
  site: ['core'],
  harness: ['core', 'data', 'engines', 'redis', 'procedures'],
  snippets: ['core', 'data', 'engines', 'redis', 'procedures', 'cli', 'faults', 'harness', 'package'],
  verify: ['core', 'data', 'engines', 'redis', 'procedures', 'faults', 'harness', 'snippets'],
  lint: ['core', 'data', 'snippets', 'cli'],
  package: ['core', 'data', 'engines', 'redis', 'procedures', 'cli', 'harness'],
  bench: ['core', 'data', 'engines', 'redis', 'procedures', 'cli', 'harness', 'package', 'site'],
};

/** What the site may import: data-only views and the link check of its own build. */
export const SITE_LAYERS: readonly string[] = ['core', 'data', 'faults', 'site'];

/** Packages that start processes or open connections: nothing the site loads may reach them. */
export const RUNTIME_PACKAGES: readonly string[] = ['execa', 'ioredis', 'node:child_process', 'child_process'];

/** One wrong edge. */
export interface WrongEdge {
  /** The importing file, relative to the root. */
  from: string;
  /** The imported file (relative to the root) or package. */
  to: string;
  /** Why it is wrong, in a few words. */
  rule: string;
}

const SOURCE = /\.(ts|mjs|astro)$/;

function walk(dir: string, found: string[] = []): string[] {
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') walk(path, found);
    else if (entry.isFile() && SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

/** The code of a file that imports run from: an .astro file's frontmatter and `<script>` bodies. */
function codeOf(file: string): string {
  const text = readFileSync(file, 'utf8');
  if (!file.endsWith('.astro')) return text;
  const parts: string[] = [];
  const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (front?.[1]) parts.push(front[1]);
  for (const match of text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) parts.push(match[1] ?? '');
  return parts.join('\n');
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
export function specifiersOf(file: string): string[] {
  const info = ts.preProcessFile(codeOf(file), true, true);
  return info.importedFiles.map((item) => item.fileName);
}

/** The layer of a file: `scripts/<layer>/…`, `site` for the site's own files, undefined for the rest. */
export function layerOf(root: string, file: string): string | undefined {
  const path = relative(root, file).split(sep);
  if (path[0] === 'scripts' && path.length > 2) return path[1];
  if (path[0] === 'src' || (path.length === 1 && /^(astro|ec)\.config\.mjs$/.test(path[0] ?? ''))) return SITE;
  return undefined;
}

/** The layer name of the site itself (its own folder `scripts/site` is a layer below it). */
const SITE = '(site)';

function resolveRelative(file: string, specifier: string): string | undefined {
  const target = resolve(dirname(file), specifier);
  return existsSync(target) && statSync(target).isFile() ? target : undefined;
}

/** The wrong edges under `root` (a checkout, or a test's fixture tree of the same shape). */
export function checkImportGraph(root: string): WrongEdge[] {
  const files = [...walk(join(root, 'scripts')), ...walk(join(root, 'src'))];
  for (const name of ['astro.config.mjs', 'ec.config.mjs']) if (existsSync(join(root, name))) files.push(join(root, name));
  const edges = new Map<string, { modules: string[]; packages: string[] }>();
  const wrong: WrongEdge[] = [];
  const rel = (file: string) => relative(root, file).split(sep).join('/');
  for (const file of files) {
    const modules: string[] = [];
    const packages: string[] = [];
    for (const specifier of specifiersOf(file)) {
      if (!specifier.startsWith('.')) {
        packages.push(specifier);
        continue;
      }
      const target = resolveRelative(file, specifier);
      if (!target) {
        wrong.push({ from: rel(file), to: specifier, rule: 'no such file' });
        continue;
      }
      modules.push(target);
    }
    edges.set(file, { modules, packages });
  }
  for (const [file, { modules }] of edges) {
    const from = layerOf(root, file);
    if (from === undefined) continue;
    for (const target of modules) {
      const to = layerOf(root, target);
      if (to === undefined || to === from) continue;
      if (from === SITE) {
        if (!SITE_LAYERS.includes(to))
          wrong.push({ from: rel(file), to: rel(target), rule: `the site may import only ${SITE_LAYERS.join(', ')}` });
        continue;
      }
      const allowed = LAYERS[from];
      if (!allowed)
        wrong.push({
          from: rel(file),
          to: rel(target),
          rule: `${from}/ is no known layer (add it to LAYERS in scripts/lint/import-graph.ts)`,
        });
      else if (!allowed.includes(to))
        wrong.push({
          from: rel(file),
          to: rel(target),
          rule: `${from}/ may not import ${to}/ (it may import ${allowed.join(', ') || 'nothing of the project'})`,
        });
    }
  }
  // Nothing the site loads, however deep, reaches a package that runs processes.
  const runtimePath = new Map<string, string[] | null>();
  const pathToRuntime = (file: string, seen: Set<string>): string[] | null => {
    if (runtimePath.has(file)) return runtimePath.get(file) ?? null;
    if (seen.has(file)) return null;
    seen.add(file);
    const edge = edges.get(file);
    let found: string[] | null = null;
    const runtime = edge?.packages.find((name) => RUNTIME_PACKAGES.includes(name));
    if (runtime) found = [rel(file), runtime];
    for (const next of edge?.modules ?? []) {
      if (found) break;
      const below = pathToRuntime(next, seen);
      if (below) found = [rel(file), ...below];
    }
    runtimePath.set(file, found);
    return found;
  };
  for (const [file, { modules }] of edges) {
    if (layerOf(root, file) !== SITE) continue;
    for (const target of modules) {
      if (layerOf(root, target) === SITE) continue;
      const path = pathToRuntime(target, new Set());
      if (path) wrong.push({ from: rel(file), to: rel(target), rule: `the site loads ${path.at(-1)} through it (${path.join(' → ')})` });
    }
  }
  return wrong;
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('../../', import.meta.url)));
  if (!existsSync(join(root, 'scripts'))) {
    console.error(`import-graph: no scripts/ in ${root}`);
    process.exit(2);
  }
  const wrong = checkImportGraph(root);
  for (const edge of wrong) console.error(`${edge.from}: imports ${edge.to} (${edge.rule})`);
  if (wrong.length > 0) {
    console.error(`import-graph: ${wrong.length} import(s) across the layers the wrong way`);
    process.exit(1);
  }
  console.log('import-graph: every import follows the layers');
}
