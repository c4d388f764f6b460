import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { engineCacheDir } from '../engines/catalog.ts';
import { pathOf } from '../core/run.ts';
import { shellQuote } from '../core/shell-quote.ts';
import type { Engine } from '../harness/engine.ts';

/** Program names of a Redis-compatible engine (`redis-server`, `valkey-check-aof`, `redis-benchmark`, …). */
const ENGINE_PROGRAM = /^(redis|valkey)-[a-z][a-z-]*$/;

/** The engine's programs under the engine's own fields, by their `redis-*` and product names. */
function ownPrograms(engine: Engine): Map<string, string> {
  const programs = new Map<string, string>();
  const tools: [string, string][] = [
    ['server', engine.server],
    ['cli', engine.cli],
    ['check-rdb', engine.checkRdb],
    ['check-aof', engine.checkAof],
  ];
  for (const [tool, program] of tools) {
    programs.set(`redis-${tool}`, program);
    programs.set(`${engine.product}-${tool}`, program);
  }
  return programs;
}

const programsOnPath = new Map<string, Set<string>>();

/** `redis-*` and `valkey-*` programs on a PATH, outside the engine cache (the host's own packages). Read once per PATH. */
export function hostEnginePrograms(path = process.env.PATH ?? '', cache = engineCacheDir()): Set<string> {
  const key = `${cache}\u0000${path}`;
  const known = programsOnPath.get(key);
  if (known) return known;
  const names = new Set<string>();
  programsOnPath.set(key, names);
  for (const dir of path.split(delimiter)) {
    if (!dir || dir.startsWith(cache)) continue;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of entries) if (ENGINE_PROGRAM.test(name)) names.add(name);
  }
  return names;
}

/**
 * Writes `dir`, the second entry of a verification's PATH (after the engine's shim dir): for every
 * `redis-*`/`valkey-*` program this machine has on PATH that the engine's shim dir lacks, either the
 * engine's own program (an engine given without a shim dir) or a fence that fails with exit 127 naming
 * the engine under test. So no page command, scenario or checker reaches a server program of another
 * engine (the host's Redis 7.0 in /usr/bin) through PATH. Returns the dir.
 */
export async function writeEngineFence(engine: Engine, dir: string, path = process.env.PATH ?? ''): Promise<string> {
  await mkdir(dir, { recursive: true });
  const own = ownPrograms(engine);
  const names = new Set([...hostEnginePrograms(path), ...own.keys()]);
  for (const name of names) {
    if (engine.binDir && existsSync(join(engine.binDir, name))) continue;
    const program = own.get(name);
    const body = program
      ? `exec ${shellQuote(program)} "$@"`
      : `echo ${shellQuote(`${name}: not a program of ${engine.label ?? engine.id}, the engine under test (the host's own is fenced off by the verifier)`)} >&2\nexit 127`;
    await writeFile(join(dir, name), `#!/bin/sh\n# Written by the Redis Playbook verifier for ${engine.id}.\n${body}\n`);
    await chmod(join(dir, name), 0o755);
  }
  return dir;
}

/** A PATH with the engine's programs and its fence first, then `rest` (the CLI's bin, the host's PATH). */
export function enginePath(engine: Engine, fence: string, rest: string): string {
  return pathOf(engine.binDir, fence, rest);
}
