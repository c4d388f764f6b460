#!/usr/bin/env node
/**
 * `node scripts/lint/snippet-files.ts [ROOT]` (part of `npm run lint`): a page and the file of its
 * command blocks share a name, so a reader finds one from the other. Every file directly under
 * `scripts/snippets/pages/` is named after a page of `content/docs/` (its file name without `.mdx`):
 * `<page>.ts`, or `<page>.<part>.ts` for more files of one page (`rollback.docker.ts`,
 * `troubleshooting.damaged-rdb.ts`), and each block it defines (`defineSnippet({ id: '…' })`) belongs
 * to that page. Prints one `file: problem` line per finding and exits 1; exits 0 with a summary line
 * otherwise, 2 when ROOT cannot be read.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { registry } from '../snippets/registry.ts';

/** One file named otherwise than its page. */
export interface MisnamedFile {
  /** The file, relative to the root. */
  file: string;
  problem: string;
}

/** The `.mdx`/`.md` pages under `content/docs`, as `section/name` (what a snippet's `page` says). */
function pagesOf(root: string): string[] {
  const docs = join(root, 'content', 'docs');
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.mdx?$/.test(entry.name)) found.push(relative(docs, path).replace(/\.mdx?$/, ''));
    }
  };
  walk(docs);
  return found;
}

/** The literal ids of the `defineSnippet({ id: '…' })` calls of a module. */
export function definedIds(text: string): string[] {
  const source = ts.createSourceFile('module.ts', text, ts.ScriptTarget.Latest, true);
  const ids: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'defineSnippet') {
      const [argument] = node.arguments;
      if (argument && ts.isObjectLiteralExpression(argument)) {
        for (const property of argument.properties) {
          if (
            ts.isPropertyAssignment(property) &&
            ts.isIdentifier(property.name) &&
            property.name.text === 'id' &&
            ts.isStringLiteral(property.initializer)
          )
            ids.push(property.initializer.text);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return ids;
}

/**
 * The snippet files under `ROOT/scripts/snippets/pages` not named after their page. `pageOf` gives a
 * block's page by id (the registry's; undefined for an id it does not know).
 */
export function checkSnippetFiles(root: string, pageOf: (id: string) => string | undefined): MisnamedFile[] {
  const dir = join(root, 'scripts', 'snippets', 'pages');
  const pages = pagesOf(root);
  const byName = new Map(pages.map((page) => [basename(page), page]));
  const misnamed: MisnamedFile[] = [];
  for (const name of readdirSync(dir)
    .filter((entry) => entry.endsWith('.ts'))
    .sort()) {
    const file = relative(root, join(dir, name));
    const pageName = name.slice(0, name.indexOf('.'));
    if (!byName.has(pageName)) {
      misnamed.push({
        file,
        problem: `no page content/docs/*/${pageName}.mdx: name the file after the page its blocks are on (<page>.ts or <page>.<part>.ts)`,
      });
      continue;
    }
    for (const id of definedIds(readFileSync(join(dir, name), 'utf8'))) {
      const page = pageOf(id);
      if (page !== undefined && basename(page) !== pageName)
        misnamed.push({ file, problem: `defines ${id} of page ${page}: move it to ${basename(page)}.ts (or ${basename(page)}.<part>.ts)` });
    }
  }
  return misnamed;
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('../../', import.meta.url)));
  if (!existsSync(join(root, 'scripts', 'snippets', 'pages')) || !existsSync(join(root, 'content', 'docs'))) {
    console.error(`snippet-files: no scripts/snippets/pages or content/docs in ${root}`);
    process.exit(2);
  }
  const misnamed = checkSnippetFiles(root, (id) => registry.get(id)?.page);
  for (const { file, problem } of misnamed) console.error(`${file}: ${problem}`);
  if (misnamed.length > 0) {
    console.error(`snippet-files: ${misnamed.length} snippet file(s) not named after their page`);
    process.exit(1);
  }
  console.log('snippet-files: every snippet file is named after its page');
}
