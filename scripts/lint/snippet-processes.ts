#!/usr/bin/env node
/**
 * `node scripts/lint/snippet-processes.ts [ROOT]` (part of `npm run lint`): every program a snippet
 * starts ends when its verification's time is up. Under `scripts/snippets/`, programs are started with
 * `exec()` of `scripts/snippets/exec.ts`, which binds each to the verification's signal; no other file
 * there may import execa or start a process through `node:child_process` (its `…Sync` calls only, which
 * block until done and so cannot outlive the verification: an exit hook's last `chattr -i`).
 * Prints one `file:line: problem` line per finding and exits 1; exits 0 with a summary line otherwise,
 * 2 when ROOT cannot be read.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The module that may call execa itself: the bound runner. */
export const RUNNER = 'scripts/snippets/exec.ts';

const EXECA = new Set(['execa']);
const CHILD_PROCESS = new Set(['node:child_process', 'child_process']);

/** One way a snippet module could start a program unbound. */
export interface UnboundStart {
  /** 1-based line of the import. */
  line: number;
  problem: string;
}

/** The imports of `text` (a module's source) through which it could start a program not bound by the signal. */
export function unboundStarts(text: string): UnboundStart[] {
  const source = ts.createSourceFile('module.ts', text, ts.ScriptTarget.Latest, true);
  const found: UnboundStart[] = [];
  const at = (node: ts.Node, problem: string) => {
    found.push({ line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, problem });
  };
  const visit = (node: ts.Node) => {
    if (
      ts.isImportDeclaration(node) &&
      ts.isStringLiteral(node.moduleSpecifier) &&
      node.importClause?.phaseModifier !== ts.SyntaxKind.TypeKeyword
    ) {
      const from = node.moduleSpecifier.text;
      const bindings = node.importClause?.namedBindings;
      const names =
        bindings && ts.isNamedImports(bindings)
          ? bindings.elements.filter((element) => !element.isTypeOnly).map((element) => (element.propertyName ?? element.name).text)
          : undefined;
      const whole = node.importClause?.name !== undefined || (bindings !== undefined && ts.isNamespaceImport(bindings));
      if (EXECA.has(from) && (whole || (names?.length ?? 0) > 0 || !node.importClause))
        at(node, `imports ${from}: start programs with exec() of ${RUNNER}, bound by the verification's signal`);
      if (CHILD_PROCESS.has(from)) {
        const unbound = whole ? ['*'] : (names ?? []).filter((name) => !name.endsWith('Sync'));
        if (unbound.length > 0)
          at(
            node,
            `imports ${unbound.join(', ')} from ${from}: start programs with exec() of ${RUNNER}, bound by the verification's signal`,
          );
      }
    }
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0]) &&
      (EXECA.has(node.arguments[0].text) || CHILD_PROCESS.has(node.arguments[0].text))
    )
      at(node, `loads ${node.arguments[0].text}: start programs with exec() of ${RUNNER}, bound by the verification's signal`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every finding under `ROOT/scripts/snippets`, as `file:line: problem`, the runner itself left out. */
export function checkSnippetProcesses(root: string): string[] {
  const findings: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts') && relative(root, path) !== RUNNER)
        for (const { line, problem } of unboundStarts(readFileSync(path, 'utf8')))
          findings.push(`${relative(root, path)}:${line}: ${problem}`);
    }
  };
  walk(join(root, 'scripts', 'snippets'));
  return findings;
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('../../', import.meta.url)));
  if (!existsSync(join(root, 'scripts', 'snippets'))) {
    console.error(`snippet-processes: no scripts/snippets in ${root}`);
    process.exit(2);
  }
  const findings = checkSnippetProcesses(root);
  for (const finding of findings) console.error(finding);
  if (findings.length > 0) {
    console.error(`snippet-processes: ${findings.length} snippet module(s) may start a program the verification's signal does not end`);
    process.exit(1);
  }
  console.log(`snippet-processes: every program under scripts/snippets starts through ${RUNNER}`);
}
