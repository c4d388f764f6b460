#!/usr/bin/env node
/**
 * `node scripts/lint/bounded-loops.ts` (part of `npm run lint`): shell on the pages never loops without
 * a bound. A reader pastes a block into a terminal that has no timeout around it, so a `while` or
 * `until` loop waiting for a state that never comes would hang it. Waits are written with
 * `scripts/snippets/shell-wait.ts` (`for try in $(seq N); do …; done`). Reads every flavor's command and
 * every variant's command of every snippet; prints one `snippet (flavor): line` per unbounded loop and
 * exits 1, or prints a summary and exits 0.
 */
import { flavorsOf, registry } from '../snippets/registry.ts';

/** `while`/`until` where a command starts: line start, after `;`, `&&`, `||`, `|`, `{`, `(`, or `then`/`do`/`else`. */
const UNBOUNDED = /(?:^|[;&|({]|\b(?:then|do|else))\s*(?:while|until)\s/;

/** The lines of `command` that open a `while`/`until` loop (comment lines are prose, not code). */
export function unboundedLoops(command: string): string[] {
  return command
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .filter((line) => UNBOUNDED.test(line));
}

if (import.meta.main) {
  const findings: string[] = [];
  let commands = 0;
  for (const snippet of registry.values()) {
    for (const [flavorId, flavor] of flavorsOf(snippet)) {
      for (const [label, command] of [
        [flavorId, flavor.command],
        ...flavor.variants.flatMap((variant) => (variant.command ? [[`${flavorId}, ${variant.label}`, variant.command]] : [])),
      ]) {
        commands++;
        for (const line of unboundedLoops(command ?? '')) findings.push(`${snippet.id} (${label}): ${line.trim()}`);
      }
    }
  }
  if (findings.length) {
    console.error(`${findings.length} unbounded shell loop(s); wait with scripts/snippets/shell-wait.ts instead:\n${findings.join('\n')}`);
    process.exit(1);
  }
  console.log(`bounded-loops: ${commands} commands, no unbounded loop`);
}
