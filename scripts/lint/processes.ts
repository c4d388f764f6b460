#!/usr/bin/env node
/**
 * `node scripts/lint/processes.ts [ROOT]` (part of `npm run lint`): each layer starts programs one way.
 * - Under `scripts/snippets/`, through `exec()` of `scripts/snippets/exec.ts`, which binds each to the
 *   verification's signal, so every program a check starts ends when its time is up.
 * - Under the operator's layers (`scripts/core/`, `redis/`, `procedures/`, `cli/`), through
 *   `runProgram`/`runProgramOk` of `scripts/core/run.ts`: one timeout, one error (the project's, with
 *   execa's as its cause), the same signal. The disposable server is the one exception: it spawns the
 *   `redis-server` it then lives with, a server rather than a run.
 * No other file there may import execa or start a process through `node:child_process` (its `…Sync`
 * calls only, which block until done and so cannot outlive the work: an exit hook's last `chattr -i`).
 * Prints one `file:line: problem` line per finding and exits 1; exits 0 with a summary line otherwise,
 * 2 when ROOT cannot be read.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Where programs are started one way: the folders, the one module that may call execa, and what it gives. */
export interface ProcessArea {
  dirs: string[];
  runner: string;
  why: string;
  /** Modules that may start a long-lived process themselves, with the reason. */
  exceptions: Record<string, string>;
}

export const AREAS: ProcessArea[] = [
  {
    dirs: ['scripts/snippets'],
    runner: 'scripts/snippets/exec.ts',
    why: "start programs with exec() of scripts/snippets/exec.ts, bound by the verification's signal",
    exceptions: {},
  },
  {
    dirs: ['scripts/core', 'scripts/redis', 'scripts/procedures', 'scripts/cli'],
    runner: 'scripts/core/run.ts',
    why: "start programs with runProgram() of scripts/core/run.ts: the project's timeout, error and signal",
    exceptions: { 'scripts/procedures/scratch-server.ts': 'spawns the redis-server it lives with' },
  },
];

/** The snippets' area (the first). */
export const RUNNER = (AREAS[0] as ProcessArea).runner;

const EXECA = new Set(['execa']);
const CHILD_PROCESS = new Set(['node:child_process', 'child_process']);

/** One way a snippet module could start a program unbound. */
export interface UnboundStart {
  /** 1-based line of the import. */
  line: number;
  problem: string;
}

/** The imports of `text` (a module's source) through which it could start a program not bound by the signal. */
export function unboundStarts(text: string, why: string = (AREAS[0] as ProcessArea).why): UnboundStart[] {
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
      if (EXECA.has(from) && (whole || (names?.length ?? 0) > 0 || !node.importClause)) at(node, `imports ${from}: ${why}`);
      if (CHILD_PROCESS.has(from)) {
        const unbound = whole ? ['*'] : (names ?? []).filter((name) => !name.endsWith('Sync'));
        if (unbound.length > 0) at(node, `imports ${unbound.join(', ')} from ${from}: ${why}`);
      }
    }
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0]) &&
      (EXECA.has(node.arguments[0].text) || CHILD_PROCESS.has(node.arguments[0].text))
    )
      at(node, `loads ${node.arguments[0].text}: ${why}`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every finding in the areas under ROOT, as `file:line: problem`, each area's runner and exceptions left out. */
export function checkProcesses(root: string, areas: ProcessArea[] = AREAS): string[] {
  const findings: string[] = [];
  for (const area of areas) {
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const path = join(dir, entry.name);
        const name = relative(root, path);
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile() && entry.name.endsWith('.ts') && name !== area.runner && !(name in area.exceptions))
          for (const { line, problem } of unboundStarts(readFileSync(path, 'utf8'), area.why)) findings.push(`${name}:${line}: ${problem}`);
      }
    };
    for (const dir of area.dirs) if (existsSync(join(root, dir))) walk(join(root, dir));
  }
  return findings;
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL('../../', import.meta.url)));
  if (!existsSync(join(root, 'scripts'))) {
    console.error(`processes: no scripts/ in ${root}`);
    process.exit(2);
  }
  const findings = checkProcesses(root);
  for (const finding of findings) console.error(finding);
  if (findings.length > 0) {
    console.error(`processes: ${findings.length} module(s) start programs outside their layer's runner`);
    process.exit(1);
  }
  console.log(`processes: snippets start programs through ${RUNNER}, the operator's layers through ${(AREAS[1] as ProcessArea).runner}`);
}
