import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { versionFromVersionLine } from '../engines/catalog.ts';
import { startRedis, type DisposableRedis } from '../harness/redis-server.ts';
import { hostRedis, type Engine } from '../harness/engine.ts';
import { DisposedAtExit, killProcessesIn } from '../harness/exit-hook.ts';
import { TEMP_PREFIX } from '../harness/leftovers.ts';
import { dockerPolicy } from '../harness/docker/available.ts';
import { ComposeRedis, composeDescription, composeShim, startComposeProject } from '../harness/docker/compose.ts';
import { startRedisContainer, type RedisContainer } from '../harness/docker/container.ts';
import { ensureImage, imageServerVersion, withImageEngine } from '../harness/docker/image.ts';
import { fillCommand, placeholderDefault, placeholders, placeholdersIn, type PlaceholderName } from '../snippets/placeholders.ts';
import type { CommandResult, DockerFlavor, Flavor, FlavorId, HostFlavor, Snippet, VerifyContext } from '../snippets/schema.ts';
import type { Result } from './report.ts';

/** `--version` of each server program, asked once per run. */
const programVersions = new Map<string, Promise<string>>();

/** The version of an engine's server, from INFO server when a server runs, else from `--version`. */
async function serverVersion(engine: Engine, server: DisposableRedis | undefined): Promise<string> {
  if (server?.running) {
    const fields = (await server.info('server')).server ?? {};
    return fields.valkey_version ?? fields.redis_version ?? 'unknown';
  }
  let version = programVersions.get(engine.server);
  if (!version) {
    version = execa(engine.server, ['--version'], { reject: false }).then(({ stdout }) => versionFromVersionLine(String(stdout)) ?? 'unknown');
    programVersions.set(engine.server, version);
  }
  return version;
}

/** Placeholder values for a disposable server: its address and data dir. */
function serverValues(server: DisposableRedis | undefined): Record<string, string> {
  return server ? { host: server.host, port: String(server.port), dataDir: server.dir } : {};
}

/**
 * Turns what a verification run printed into what the page shows: the password redacted, and each
 * value filled for the disposable server (port, temp paths) shown as the documented default again.
 */
export function presentOutput(text: string, values: Record<string, string>, secrets: string[], flavor: FlavorId = 'host'): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('********');
  const pairs = Object.entries(values)
    .filter(([name]) => name in placeholders)
    .map(([name, value]) => [value, placeholderDefault(name as PlaceholderName, flavor)] as const)
    .filter(([value, shown]) => value !== shown)
    .sort((a, b) => b[0].length - a[0].length);
  for (const [actual, shown] of pairs) {
    if (/^\d+$/.test(actual)) out = out.replace(new RegExp(`(?<!\\d)${actual}(?!\\d)`, 'g'), shown);
    else out = out.split(actual).join(shown);
  }
  return out;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Scratch dirs of running verifications, removed also when verify is interrupted (Ctrl-C, SIGTERM). */
const liveScratch = new DisposedAtExit<string>((dir) => {
  killProcessesIn(dir);
  rmSync(dir, { recursive: true, force: true });
});

/** The project's `bin/` (the redis-playbook launcher). */
const projectBin = fileURLToPath(new URL('../../bin', import.meta.url));

/** A started scenario: its server and where and how the page's command runs. */
interface Stage<Server> {
  server: Server | undefined;
  /** Placeholder values of this run. */
  values: Record<string, string>;
  /** Working dir of the command. */
  cwd: string;
  /** Variables added to the command's environment. */
  env: Record<string, string>;
  /** The server's version. */
  version: string;
}

/** What a verification run keeps between its steps (filled as it goes, read when reporting). */
interface Run {
  recorded: string[];
  secrets: string[];
  values: Record<string, string>;
  version: string;
  /** The Docker flavor's image (tag). */
  image?: string;
  /** The Compose that ran a Compose tab (`docker compose 2.40.3`). */
  compose?: string;
  /** The server's last log lines, for a failure report (set once a server runs). */
  logTail: () => Promise<string>;
  /** Disposals, run last to first after the verification. */
  cleanup: Array<() => Promise<void>>;
}

/** Fills the command, builds the context, runs the flavor's verification against a started stage. */
async function verifyOn<Server>(
  snippet: Snippet,
  flavorId: FlavorId,
  flavor: { command: string; timeoutMs: number; verify: (ctx: VerifyContext<Server>) => Promise<void> },
  stage: Stage<Server>,
  scratch: string,
  run: Run,
): Promise<void> {
  run.version = stage.version;
  run.values = stage.values;
  for (const name of placeholdersIn(flavor.command)) {
    if (!(name in stage.values)) throw new Error(`No value for placeholder {{${name}}} in this verification`);
  }
  const command = fillCommand(flavor.command, stage.values, flavorId);
  const ctx: VerifyContext<Server> = {
    server: stage.server,
    scratch,
    values: stage.values,
    command,
    async run(options = {}): Promise<CommandResult> {
      // The CLI is on PATH as an operator installs it (bin/redis-playbook linked into PATH), unless the
      // verification sets PATH itself (cron's bare environment).
      const env: Record<string, string> = { ...stage.env, ...options.env };
      if (!options.env?.PATH) env.PATH = `${projectBin}${delimiter}${stage.env.PATH ?? process.env.PATH ?? ''}`;
      if (env.REDISCLI_AUTH) run.secrets.push(env.REDISCLI_AUTH);
      const result = await execa('bash', ['--noprofile', '--norc', '-c', command], {
        cwd: stage.cwd,
        env,
        input: options.input ?? '',
        all: true,
        reject: false,
        timeout: options.timeoutMs ?? flavor.timeoutMs,
      });
      run.recorded.push(result.all ?? '');
      return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, all: result.all ?? '' };
    },
    note(text: string) {
      run.recorded.push(text);
    },
  };
  await withTimeout(flavor.verify(ctx), flavor.timeoutMs, `Verification of ${snippet.id} (${flavorId})`);
}

/** Starts a host process server for a host flavor. */
async function hostStage(flavor: HostFlavor, engine: Engine, scratch: string, run: Run): Promise<Stage<DisposableRedis>> {
  let server: DisposableRedis | undefined;
  if (flavor.server !== false) {
    server = await startRedis(flavor.server, engine);
    const started = server;
    run.cleanup.push(() => started.dispose());
    run.logTail = () => started.logTail(10);
    if (server.password) run.secrets.push(server.password);
    await flavor.setup?.(server, scratch);
  }
  const version = await serverVersion(engine, server);
  const values = { ...serverValues(server), ...(await flavor.values?.({ server, scratch })) };
  // The engine's programs under the names the page uses (redis-cli, redis-check-rdb…) come first on PATH.
  const env: Record<string, string> = { ...server?.env };
  if (engine.binDir) env.PATH = `${engine.binDir}${delimiter}${process.env.PATH ?? ''}`;
  return { server, values, cwd: scratch, env, version };
}

/**
 * Starts a disposable container (or Compose project) for a Docker flavor. The page's command runs on
 * the host: from the project dir with COMPOSE_PROJECT_NAME set for Compose, and with a `docker` shim
 * first on PATH when this machine lacks `docker compose` (v2) so `docker compose …` runs docker-compose.
 */
async function dockerStage(flavor: DockerFlavor, engine: Engine, scratch: string, run: Run): Promise<Stage<RedisContainer>> {
  const image = await ensureImage(engine);
  run.image = image.tag;
  if (flavor.compose) run.compose = await composeDescription();
  let server: RedisContainer | undefined;
  if (flavor.server !== false) {
    server = flavor.compose ? await startComposeProject(flavor.server, { image: image.tag }) : await startRedisContainer(flavor.server, { image: image.tag });
    const started = server;
    run.cleanup.push(() => started.dispose());
    run.logTail = () => started.logTail(10);
    if (server.password) run.secrets.push(server.password);
    await flavor.setup?.(server, scratch);
  }
  // A setup may leave the container stopped (a repair works on the files of a stopped server): ask the image then.
  const info = server && (await server.isRunning()) ? (await server.info('server')).server ?? {} : {};
  const version = info.valkey_version ?? info.redis_version ?? image.version ?? (await imageServerVersion(image.tag));
  const values: Record<string, string> = { host: '127.0.0.1', port: '6379', dataDir: '/data', image: image.tag };
  if (server) Object.assign(values, { container: server.name, volume: server.volume });
  if (server instanceof ComposeRedis) Object.assign(values, { service: server.service, project: server.project });
  Object.assign(values, await flavor.values?.({ server, scratch }));
  const shim = await composeShim(join(scratch, '.bin')).catch(() => undefined);
  const env: Record<string, string> = { ...server?.env };
  if (shim) env.PATH = `${shim}${delimiter}${process.env.PATH ?? ''}`;
  if (server instanceof ComposeRedis) Object.assign(env, server.composeEnv);
  const cwd = server instanceof ComposeRedis ? server.projectDir : scratch;
  return { server, values, cwd, env, version };
}

/**
 * Runs one flavor of a snippet on an engine against a fresh disposable server (a host process, or a
 * container of the engine's image for the Docker flavor) and reports the outcome. Never throws. A
 * Docker flavor is skipped where Docker is missing, and fails then when `CI=true`
 * (scripts/harness/docker/available.ts).
 */
export async function runSnippet(snippet: Snippet, flavorId: FlavorId, flavor: Flavor, engine: Engine = hostRedis): Promise<Result> {
  const started = Date.now();
  const verifiedAt = new Date().toISOString();
  const run: Run = { recorded: [], secrets: [], values: {}, version: 'unknown', logTail: async () => '', cleanup: [] };
  let scratch: string | undefined;
  const base = { id: snippet.id, flavor: flavorId, page: snippet.page, command: flavor.command, engine: engine.product, engineId: engine.id };
  const finish = (status: Result['status'], error?: string): Result => ({
    ...base,
    status,
    version: run.version,
    ...(run.image === undefined ? {} : { image: run.image }),
    ...(run.compose === undefined ? {} : { compose: run.compose }),
    durationMs: Date.now() - started,
    verifiedAt,
    output: presentOutput(run.recorded.join('\n').trimEnd(), run.values, run.secrets, flavorId),
    ...(error === undefined ? {} : { error: presentOutput(error, run.values, run.secrets, flavorId) }),
  });
  let result: Result;
  try {
    if (flavorId === 'docker') {
      const policy = await dockerPolicy();
      if (!policy.run) return finish(policy.status, policy.reason);
    }
    scratch = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}verify-`));
    liveScratch.add(scratch);
    if (flavorId === 'docker') {
      // Every container the verification starts, however deep, runs this engine's image.
      const docker = flavor as DockerFlavor;
      const dir = scratch;
      await withImageEngine(engine, async () => verifyOn(snippet, flavorId, docker, await dockerStage(docker, engine, dir, run), dir, run));
    } else {
      const host = flavor as HostFlavor;
      await verifyOn(snippet, flavorId, host, await hostStage(host, engine, scratch, run), scratch, run);
    }
    result = finish('passed');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const log = await run.logTail().catch(() => '');
    result = finish('failed', log ? `${message}\n--- server log (last lines) ---\n${log}` : message);
  }
  for (const dispose of run.cleanup.reverse()) {
    try {
      await dispose();
    } catch (error) {
      const message = `Cleanup failed: ${error instanceof Error ? error.message : String(error)}`;
      result = { ...result, status: 'failed', error: result.error ? `${result.error}\n${message}` : message };
    }
  }
  if (scratch) {
    await rm(scratch, { recursive: true, force: true });
    liveScratch.delete(scratch);
  }
  return result;
}
