import { z } from 'zod';
import { runProgram } from '../core/run.ts';
import {
  engineSpecById,
  engineSpecs,
  enginePaths,
  hostFallbackSpec,
  isFetched,
  versionFromVersionLine,
  type EngineSpec,
} from './catalog.ts';
import { hostHasRedis, toolCommand, writeShims } from './shims.ts';

/** The programs of one Redis-compatible engine. The engine, not each snippet or procedure, knows these names. */
export const EngineSchema = z.object({
  /** Short id used in reports ("redis-7.0", "valkey-8.1"). */
  id: z.string().min(1),
  /** The server program. */
  server: z.string().min(1),
  /** The command-line client. */
  cli: z.string().min(1),
  /** The RDB checker. */
  checkRdb: z.string().min(1),
  /** The AOF checker (takes the manifest path on 7.x). */
  checkAof: z.string().min(1),
  /** `redis` or `valkey`. */
  product: z.enum(['redis', 'valkey']).default('redis'),
  /** Human name ("Redis 8.0"). */
  label: z.string().min(1).optional(),
  /** The upstream version the catalog pins ("8.0.2"). */
  version: z.string().optional(),
  /**
   * A dir of shims named `redis-server`, `redis-cli`, `redis-check-rdb`, `redis-check-aof` (and
   * `valkey-*` for Valkey) that run this engine: put it first on PATH (scripts/verify/engine-path.ts) and a
   * command written with `redis-cli` runs on this engine unchanged. Undefined: the host's PATH.
   */
  binDir: z.string().optional(),
});
export type Engine = z.infer<typeof EngineSchema>;

/**
 * The fetched Redis 7.0 of Debian bookworm as the host engine (id `redis-7.0`), for a machine without
 * its own redis-server: undefined unless `npm run engines` fetched it (it does so only on such a machine).
 */
export function hostFallbackEngine(): Engine | undefined {
  if (!isFetched(hostFallbackSpec) || !toolCommand(hostFallbackSpec, 'server')) return undefined;
  return { ...fromSpec(hostFallbackSpec), id: 'redis-7.0' };
}

/**
 * Redis from the host's packages (Debian's `redis-server` and `redis-tools`), found on PATH; on a
 * machine without them (Docker only), the fetched bookworm Redis 7.0 when there is one.
 */
export const hostRedis: Engine =
  (hostHasRedis() ? undefined : hostFallbackEngine()) ??
  EngineSchema.parse({
    id: 'redis-7.0',
    server: 'redis-server',
    cli: 'redis-cli',
    checkRdb: 'redis-check-rdb',
    checkAof: 'redis-check-aof',
    product: 'redis',
    label: 'Redis 7.0',
  });

/** Every engine id, the host's first. */
export const ENGINE_IDS: readonly string[] = engineSpecs.map((spec) => spec.id);

/** The engines `npm run verify` runs the pages on by default: those whose differences the pages all show (catalog `pagesPending`). */
export const PAGE_ENGINE_IDS: readonly string[] = engineSpecs.filter((spec) => spec.pagesPending === undefined).map((spec) => spec.id);

/** An engine that is not on this machine (not fetched) or not known. */
export class EngineUnavailableError extends Error {
  readonly engineId: string;
  constructor(engineId: string, message: string) {
    super(message);
    this.name = 'EngineUnavailableError';
    this.engineId = engineId;
  }
}

function fromSpec(spec: EngineSpec): Engine {
  const binDir = writeShims(spec);
  const program = (tool: string) => `${binDir}/${spec.product}-${tool}`;
  return EngineSchema.parse({
    id: spec.id,
    server: program('server'),
    cli: program('cli'),
    checkRdb: program('check-rdb'),
    checkAof: program('check-aof'),
    product: spec.product,
    label: spec.label,
    version: spec.version,
    binDir,
  });
}

/** Why an engine cannot run here, or undefined when it can. */
export function engineUnavailableReason(id: string): string | undefined {
  const spec = engineSpecById(id);
  if (!spec) return `unknown engine "${id}" (known: ${ENGINE_IDS.join(', ')})`;
  if (spec.kind === 'host') {
    return toolCommand(spec, 'server') || hostFallbackEngine()
      ? undefined
      : `${spec.label}: no ${spec.product}-server on PATH (apt-get install redis-server redis-tools, or \`npm run engines\` to fetch Debian bookworm's)`;
  }
  if (!isFetched(spec)) return `${spec.label} is not fetched: run \`npm run engines\` (it downloads into ${enginePaths(spec.id).base})`;
  if (!toolCommand(spec, 'server'))
    return `${spec.label}: the cache at ${enginePaths(spec.id).root} has no ${spec.product}-server: run \`npm run engines -- --force\``;
  return undefined;
}

/** The engine with this id, its shims written; throws {@link EngineUnavailableError} with the reason when it cannot run here. */
export function engineById(id: string): Engine {
  const reason = engineUnavailableReason(id);
  if (reason) throw new EngineUnavailableError(id, reason);
  const spec = engineSpecById(id) as EngineSpec;
  if (spec.kind === 'host' && !toolCommand(spec, 'server')) return hostFallbackEngine() as Engine;
  return fromSpec(spec);
}

/**
 * Parses an engine list such as `PLAYBOOK_ENGINES=redis-7.0,redis-8.0` (`all` for every engine).
 * Throws naming the known ids on an unknown one.
 */
export function parseEngineList(value: string): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new Error(`Empty engine list (known: ${ENGINE_IDS.join(', ')}, or all)`);
  const ids = items.includes('all') ? [...ENGINE_IDS] : items;
  for (const id of ids) {
    if (!ENGINE_IDS.includes(id)) throw new Error(`Unknown engine "${id}" in the engine list (known: ${ENGINE_IDS.join(', ')}, or all)`);
  }
  return [...new Set(ids)];
}

/** The engines a run asks for: `PLAYBOOK_ENGINES` when set, else every engine. The one place that reads the variable. */
export function selectedEngineIds(env: NodeJS.ProcessEnv = process.env): string[] {
  const value = env.PLAYBOOK_ENGINES;
  return value === undefined || value.trim() === '' ? [...ENGINE_IDS] : parseEngineList(value);
}

/**
 * The engine of a server program as an operator names it (`redis-server`, `/usr/bin/valkey-server`,
 * a shim dir's `redis-server`): its checkers and client are the same names with `-check-rdb`,
 * `-check-aof` and `-cli` in place of `-server`, in the same dir (or on PATH for a bare name).
 * Throws when the name does not end in `-server`.
 */
export function engineForServer(program: string): Engine {
  const slash = program.lastIndexOf('/');
  const dir = slash >= 0 ? program.slice(0, slash + 1) : '';
  const base = program.slice(slash + 1);
  const match = /^(.*)-server$/.exec(base);
  if (!match) throw new Error(`expected a server program named like redis-server or valkey-server, got "${program}"`);
  const stem = `${dir}${match[1]}`;
  return EngineSchema.parse({
    id: base,
    server: program,
    cli: `${stem}-cli`,
    checkRdb: `${stem}-check-rdb`,
    checkAof: `${stem}-check-aof`,
    product: base.includes('valkey') ? 'valkey' : 'redis',
  });
}

/** The version a server program's `--version` prints (`Redis server v=8.6.3 …` → `8.6.3`); undefined when it does not run. */
export async function serverVersion(program: string): Promise<string | undefined> {
  const result = await runProgram(program, ['--version'], { timeoutMs: 30_000 });
  return result.exitCode === 0 ? versionFromVersionLine(result.stdout) : undefined;
}
