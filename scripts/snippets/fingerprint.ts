import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { engineSpecById } from '../engines/catalog.ts';
import { placeholderDefault, placeholdersIn, type PlaceholderName } from './placeholders.ts';
import type { Flavor, FlavorId, Snippet } from './schema.ts';

/**
 * The fingerprint of what a result verified: a badge is current only while the block's definition is
 * what ran. It covers, for one snippet flavor on one engine:
 * - the command text, its language, the server config (and Compose), the placeholder values shown;
 * - the source text of the flavor's definition (its setup, values and verify code), read from the page
 *   module with the TypeScript parser, so the site (built by Vite) and verify (run by Node) hash the
 *   same text;
 * - the page module's code outside its snippet definitions (the helpers its blocks call) and every module
 *   under scripts/snippets or scripts/data it imports, however deep (scenarios, practice servers,
 *   placeholders: their data-only part lives in scripts/data);
 * - the engine as the catalog pins it (product, version, where it comes from).
 * Any change to one of these makes the report's result for it stale: "Not verified" until verify runs again.
 */

/** Where a snippet is defined: its page module and the source text of each flavor (or of the whole definition). */
interface Definition {
  file: string;
  whole: string;
  flavors: Partial<Record<FlavorId, string>>;
}

interface Sources {
  definitions: Map<string, Definition>;
  /** Hash of each page module's code outside its defineSnippet calls, plus its imports under scripts/snippets and scripts/data. */
  moduleHashes: Map<string, string>;
}

const cache = new Map<string, Sources>();

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Relative imports of a module (`import … from './x.ts'`), resolved. */
function importsOf(file: string, source: ts.SourceFile): string[] {
  const found: string[] = [];
  for (const statement of source.statements) {
    if (
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
      statement.moduleSpecifier &&
      ts.isStringLiteral(statement.moduleSpecifier)
    ) {
      const spec = statement.moduleSpecifier.text;
      if (spec.startsWith('.')) found.push(resolve(dirname(file), spec));
    }
  }
  return found;
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
}

/** The text of a property of an object literal, by name. */
function property(object: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  for (const element of object.properties) {
    if (
      ts.isPropertyAssignment(element) &&
      (ts.isIdentifier(element.name) || ts.isStringLiteral(element.name)) &&
      element.name.text === name
    )
      return element.initializer;
    if (ts.isMethodDeclaration(element) && ts.isIdentifier(element.name) && element.name.text === name) return undefined;
  }
  return undefined;
}

function loadSources(root: string): Sources {
  const snippetsDir = join(root, 'scripts', 'snippets');
  const pagesDir = join(snippetsDir, 'pages');
  const dataDir = join(root, 'scripts', 'data');
  const definitions = new Map<string, Definition>();
  const moduleHashes = new Map<string, string>();
  const parsed = new Map<string, ts.SourceFile>();
  const parsedOnce = (file: string) => {
    let source = parsed.get(file);
    if (!source) {
      source = parse(file);
      parsed.set(file, source);
    }
    return source;
  };
  for (const name of readdirSync(pagesDir)
    .filter((entry) => entry.endsWith('.ts'))
    .sort()) {
    const file = join(pagesDir, name);
    const source = parsedOnce(file);
    const text = source.getFullText();
    const cuts: [number, number][] = [];
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'defineSnippet') {
        const [argument] = node.arguments;
        if (argument && ts.isObjectLiteralExpression(argument)) {
          const id = property(argument, 'id');
          if (id && ts.isStringLiteral(id)) {
            const flavors: Partial<Record<FlavorId, string>> = {};
            const flavorsNode = property(argument, 'flavors');
            if (flavorsNode && ts.isObjectLiteralExpression(flavorsNode)) {
              for (const flavorId of ['host', 'docker'] as const) {
                const flavor = property(flavorsNode, flavorId);
                if (flavor) flavors[flavorId] = flavor.getText(source);
              }
            }
            definitions.set(id.text, { file, whole: node.getText(source), flavors });
          }
        }
        cuts.push([node.getStart(source), node.getEnd()]);
        return;
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    let outside = '';
    let at = 0;
    for (const [start, end] of cuts) {
      outside += text.slice(at, start);
      at = end;
    }
    outside += text.slice(at);
    // Every module under scripts/snippets or scripts/data it imports, however deep (not the other page modules' snippets: their helpers only).
    const seen = new Set<string>([file]);
    const queue = importsOf(file, source);
    const imported: string[] = [];
    while (queue.length > 0) {
      const next = queue.shift() as string;
      if (seen.has(next) || !(next.startsWith(snippetsDir) || next.startsWith(dataDir)) || next.startsWith(pagesDir)) continue;
      seen.add(next);
      let module: ts.SourceFile;
      try {
        module = parsedOnce(next);
      } catch {
        continue;
      }
      imported.push(`${relative(root, next)}\n${module.getFullText()}`);
      queue.push(...importsOf(next, module));
    }
    moduleHashes.set(file, sha256([outside, ...imported.sort()].join('\n\u0000\n')));
  }
  return { definitions, moduleHashes };
}

function sources(root: string): Sources {
  let found = cache.get(root);
  if (!found) {
    found = loadSources(root);
    cache.set(root, found);
  }
  return found;
}

/** The parts of a fingerprint, before hashing (exported for tests and for saying what changed). */
export function fingerprintParts(
  snippet: Snippet,
  flavorId: FlavorId,
  flavor: Flavor,
  engineId: string,
  root: string,
): Record<string, unknown> {
  const { definitions, moduleHashes } = sources(root);
  const definition = definitions.get(snippet.id);
  if (!definition) throw new Error(`No defineSnippet({ id: '${snippet.id}' }) in ${join(root, 'scripts', 'snippets', 'pages')}`);
  const spec = engineSpecById(engineId);
  return {
    command: flavor.command,
    lang: flavor.lang,
    server: flavor.server,
    compose: 'compose' in flavor ? flavor.compose : undefined,
    crossEngine: snippet.crossEngine,
    placeholders: Object.fromEntries(
      placeholdersIn(flavor.command).map((name) => [name, placeholderDefault(name as PlaceholderName, flavorId)]),
    ),
    definition: definition.flavors[flavorId] ?? definition.whole,
    module: moduleHashes.get(definition.file),
    engine: spec
      ? { id: spec.id, product: spec.product, version: spec.version, kind: spec.kind, suite: spec.suite, packages: spec.packages }
      : { id: engineId },
  };
}

/** The fingerprint (sha256 hex) of one snippet flavor on one engine: see the module comment. */
export function fingerprint(snippet: Snippet, flavorId: FlavorId, flavor: Flavor, engineId: string, root: string): string {
  return sha256(JSON.stringify(fingerprintParts(snippet, flavorId, flavor, engineId, root)));
}

/** Forgets the parsed sources (a test that edits a page module, a dev server after an edit). */
export function forgetSources(): void {
  cache.clear();
}
