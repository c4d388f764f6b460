import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { pathOf } from '../core/run.ts';
import { onCancel, withDeadline } from '../core/cancel.ts';
import { killTree } from '../core/processes.ts';
import { startRedis, type DisposableRedis } from '../harness/redis-server.ts';
import { engineById, engineUnavailableReason, hostRedis, type Engine } from '../harness/engine.ts';
import { DisposedAtExit, killProcessesIn } from '../harness/exit-hook.ts';
import { TEMP_PREFIX } from '../harness/leftovers.ts';
import { dockerPolicy } from '../harness/docker/available.ts';
import { ComposeRedis, composeShim, startComposeProject } from '../harness/docker/compose.ts';
import { startRedisContainer, type RedisContainer } from '../harness/docker/container.ts';
import { ensureImage, withImageEngine, type ImageInfo } from '../harness/docker/image.ts';
import { startSystemdRedis, systemdUnavailableReason, type SystemdRedis } from '../harness/systemd/unit.ts';
import { dockerIdentity, imageVersionLine, type DockerIdentity } from './docker-identity.ts';
import { fillCommand, placeholderDefault, placeholders, placeholdersIn, type PlaceholderName } from '../snippets/placeholders.ts';
import {
  commandFor,
  variantFor,
  type ValuesContext,
  type Values,
  type CommandResult,
  type DockerFlavor,
  type Flavor,
  type FlavorId,
  type HostFlavor,
  type Snippet,
  type Variant,
  type VerifyContext,
} from '../snippets/schema.ts';
import type { Result } from './report.ts';
import { projectRoot } from '../engines/catalog.ts';
import { fingerprint } from '../snippets/fingerprint.ts';
import { enginePath, writeEngineFence } from './engine-path.ts';
import { UnavailableHere } from '../harness/require-all.ts';
import { identityFromInfo, identityFromVersionLine, identityMismatch, type ServerIdentity } from './identity.ts';

/** `--version` line of each server program, asked once per run. */
const programVersions = new Map<string, Promise<string>>();

/** The `--version` line of an engine's server program (what ran, for a block whose command starts its own server). */
function versionLine(program: string): Promise<string> {
  let line = programVersions.get(program);
  if (!line) {
    line = execa(program, ['--version'], { reject: false }).then(({ stdout }) => stdout.trim());
    programVersions.set(program, line);
  }
  return line;
}

/** INFO server of a server on host:port through the engine's own client; undefined when it does not answer. */
async function infoIdentity(engine: Engine, host: string, port: string, password: string | undefined): Promise<ServerIdentity | undefined> {
  const env = password ? { REDISCLI_AUTH: password } : {};
  const { stdout, exitCode } = await execa(engine.cli, ['-h', host, '-p', port, 'INFO', 'server'], { reject: false, env, timeout: 5_000 });
  if (exitCode !== 0) return undefined;
  const fields = Object.fromEntries(
    stdout
      .split(/\r?\n/)
      .flatMap((line) => (/^[a-z_0-9]+:/.test(line) ? [[line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]] : [])),
  );
  return identityFromInfo(fields);
}

/** The file-name placeholders as the flavor's server is configured: Redis's defaults unless its config names others. */
function fileNameValues(server: { config?: Record<string, unknown> } | false | undefined): Record<string, string> {
  const config = (server ? server.config : undefined) ?? {};
  const name = (key: 'dbfilename' | 'appenddirname' | 'appendfilename') => {
    const value = config[key];
    return typeof value === 'string' ? value : placeholderDefault(key);
  };
  return { dbfilename: name('dbfilename'), appenddirname: name('appenddirname'), appendfilename: name('appendfilename') };
}

/** What a flavor's `values` gets (the runner's types: the flavor's declared ones are in schema.ts). */
function valuesContext(server: unknown, scratch: string, engine: Engine, run: Run): ValuesContext<never> {
  return { server: server as never, scratch, engine, defer: run.defer, identify: run.identify };
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
  /** Variables added to the command's environment (PATH is the run's engine path). */
  env: Record<string, string>;
  /** The PATH behind the engine's programs and fence: the CLI's bin, the Compose shim (Docker), then the host's. */
  rest: string;
  /** The identity of the server the page's commands are aimed at, when it runs (INFO server). */
  identify: () => Promise<ServerIdentity | undefined>;
  /** The `--version` line of the server program of this run (host: the engine's, Docker: the image's). */
  versionLine: () => Promise<string>;
  /** Debian's unit under systemd, where the command runs instead of this machine's shell (systemd flavors). */
  service?: SystemdRedis;
  /**
   * A Docker flavor with `upgradeFrom`: the server may run either image, so each identity is filed
   * under the engine it is (with its image), and the stage's server is recorded again at the end.
   */
  recordAs?: (identity: ServerIdentity) => Recorded;
}

/** A server identity and the engine it must be. */
interface Recorded {
  identity: ServerIdentity;
  engine: Engine;
}

/** What a verification run keeps between its steps (filled as it goes, read when reporting). */
interface Run {
  recorded: string[];
  /** Numbers the verification measured (ctx.measure). */
  measurements: Record<string, number>;
  secrets: string[];
  values: Record<string, string>;
  /** Whether the command ran on Debian's package under systemd (a systemd flavor). */
  systemd?: boolean;
  /** Every server identity recorded, in order: the stage's, then those the verification named. */
  identities: Recorded[];
  /** The Docker flavor's image and Compose. */
  docker?: { image: ImageInfo; identity?: DockerIdentity };
  /** The server's last log lines, for a failure report (set once a server runs). */
  logTail: () => Promise<string>;
  /** Disposals, run last to first after the verification. */
  cleanup: (() => Promise<void>)[];
  /** Adds a disposal (ctx.defer). */
  defer: (dispose: () => Promise<void> | void) => void;
  /** Records the identity of a server the verification started (ctx.identify). */
  identify: VerifyContext['identify'];
}

/** A fresh {@link Run} of a verification on `engine`. */
function newRun(engine: Engine): Run {
  const run: Run = {
    recorded: [],
    measurements: {},
    secrets: [],
    values: {},
    identities: [],
    logTail: () => Promise.resolve(''),
    cleanup: [],
    defer: (dispose) => {
      run.cleanup.push(async () => {
        await dispose();
      });
    },
    identify: async (target) => {
      const of = target.engine ?? engine;
      const identity = await infoIdentity(of, target.host, String(target.port), target.password);
      if (!identity) throw new Error(`INFO server of ${target.host}:${target.port} did not answer`);
      run.identities.push({ identity: of.id === engine.id ? identity : { ...identity, engineId: of.id }, engine: of });
    },
  };
  return run;
}

/** Fills the command, builds the context, runs the flavor's verification against a started stage. */
async function verifyOn<Server>(
  snippet: Snippet,
  flavorId: FlavorId,
  flavor: {
    command: string;
    variants: readonly Variant[];
    timeoutMs: number;
    verify: (ctx: VerifyContext<never, PlaceholderName>) => Promise<void>;
  },
  engine: Engine,
  stage: Stage<Server>,
  scratch: string,
  run: Run,
): Promise<void> {
  run.values = stage.values;
  // The command the page shows for this engine: its variant's where it has one.
  const text = commandFor(flavor, engine.id);
  for (const name of placeholdersIn(text)) {
    if (!(name in stage.values)) throw new Error(`No value for placeholder {{${name}}} in this verification`);
  }
  const command = fillCommand(text, stage.values, flavorId);
  // One fence per engine this run may reach: the engine under test, or another for a crossEngine block.
  const fences = new Map<string, Promise<string>>();
  const pathOf = async (rest: string, other?: Engine) => {
    const of = other ?? engine;
    if (of.id !== engine.id && !snippet.crossEngine)
      throw new Error(`${snippet.id} is not marked crossEngine: it may only run ${engine.id}`);
    let fence = fences.get(of.id);
    if (!fence) {
      fence = writeEngineFence(of, join(scratch, `.engine-fence-${of.id}`));
      fences.set(of.id, fence);
    }
    return enginePath(of, await fence, rest);
  };
  const built = new Set<string>();
  // The controller of the verification's bound: its signal goes to the check (withDeadline aborts it).
  const bound = new AbortController();
  const ctx: VerifyContext<Server | undefined, PlaceholderName> = {
    server: stage.server,
    service: stage.service,
    scratch,
    // Every placeholder the command uses has a value (checked above); the flavor's type says which it may read.
    values: stage.values as Values<PlaceholderName>,
    command,
    engine,
    signal: bound.signal,
    defer: run.defer,
    async enginePath(rest, other) {
      const path = await pathOf(rest, other);
      built.add(path);
      return path;
    },
    identify: run.identify,
    async run(options = {}): Promise<CommandResult> {
      // The engine's programs first, then the fence over every other engine's; then the CLI as an
      // operator installs it (bin/redis-playbook linked into PATH), unless the verification sets a PATH
      // itself (cron's bare environment), which must then be built with ctx.enginePath.
      if (stage.service) {
        // Debian's packaged Redis under systemd: the command runs in its container, as root, on its PATH.
        const result = await stage.service.exec(['bash', '--noprofile', '--norc', '-c', command], {
          input: options.input,
          timeoutMs: options.timeoutMs ?? flavor.timeoutMs,
          env: options.env,
        });
        run.recorded.push(result.all);
        return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, all: result.all };
      }
      const env: Record<string, string> = { ...stage.env, ...options.env };
      const path = options.env?.PATH ?? (await pathOf(stage.rest));
      if (options.env?.PATH && !built.has(path))
        throw new Error(`The PATH given to the page's command must be built with ctx.enginePath (the engine's programs first): ${path}`);
      env.PATH = path;
      if (env.REDISCLI_AUTH) run.secrets.push(env.REDISCLI_AUTH);
      const shell = execa('bash', ['--noprofile', '--norc', '-c', command], {
        cwd: stage.cwd,
        env,
        input: options.input ?? '',
        all: true,
        reject: false,
        timeout: options.timeoutMs ?? flavor.timeoutMs,
      });
      // The verification's time is up: the shell and everything it started (a redis-cli, a server) go.
      const undoCancel = onCancel(() => {
        if (shell.pid !== undefined) killTree(shell.pid);
      });
      const result = await shell.finally(undoCancel);
      run.recorded.push(result.all);
      return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, all: result.all };
    },
    note(text: string) {
      run.recorded.push(text);
    },
    measure(name: string, value: number) {
      if (!Number.isFinite(value)) throw new Error(`measure(${name}): not a finite number: ${value}`);
      run.measurements[name] = value;
    },
  };
  const before = await stage.identify();
  if (before) run.identities.push(stage.recordAs?.(before) ?? { identity: before, engine });
  // Bounded: when the time is up every process and wait under the verification is cancelled.
  await withDeadline(flavor.timeoutMs, `Verification of ${snippet.id} (${flavorId})`, (signal) => {
    signal.addEventListener(
      'abort',
      () => {
        bound.abort(signal.reason);
      },
      { once: true },
    );
    // The flavor's declared types (scripts/snippets/schema.ts) say which server and values its check gets.
    return flavor.verify(ctx as VerifyContext<never, PlaceholderName>);
  });
}

/**
 * After a verification: when no server of the engine under test was identified (the command started
 * and stopped its own), the identity of the server program that ran, from its `--version` line; then
 * why the result cannot be filed under `engine`: a server that answered is not the engine it is filed
 * under, or a block not marked `crossEngine` reached another engine.
 */
export function identityProblems(
  engine: Pick<Engine, 'id' | 'product' | 'version'>,
  identities: readonly { identity: ServerIdentity; engine: Pick<Engine, 'id' | 'product' | 'version'> }[],
  crossEngine: boolean,
): string[] {
  const problems: string[] = [];
  if (!identities.some((recorded) => recorded.engine.id === engine.id)) problems.push(`no identity of a ${engine.id} server was recorded`);
  for (const recorded of identities) {
    if (recorded.engine.id !== engine.id && !crossEngine)
      problems.push(`reached ${recorded.engine.id} although the block is not marked crossEngine`);
    const mismatch = identityMismatch(recorded.engine, recorded.identity);
    if (mismatch) problems.push(mismatch);
  }
  return problems;
}

/**
 * Debian's packaged Redis under systemd for a host flavor with `systemd: true`: a container of the
 * systemd image, its redis-server unit active (scripts/harness/systemd/unit.ts). Missing Docker or
 * debootstrap: skipped, or failed when everything is required.
 */
async function systemdStage(flavor: HostFlavor, engine: Engine, scratch: string, run: Run): Promise<Stage<DisposableRedis>> {
  const reason = await systemdUnavailableReason();
  if (reason) throw new UnavailableHere("Debian's redis-server under systemd", reason);
  const service = await startSystemdRedis();
  run.cleanup.push(() => service[Symbol.asyncDispose]());
  run.systemd = true;
  run.logTail = async () => (await service.exec(['journalctl', '-u', 'redis-server', '-n', '10', '--no-pager'])).stdout;
  const values = {
    ...fileNameValues(false),
    host: '127.0.0.1',
    port: '6379',
    dataDir: '/var/lib/redis',
    configFile: '/etc/redis/redis.conf',
    ...(await flavor.values?.(valuesContext(undefined, scratch, engine, run))),
  };
  return {
    server: undefined,
    service,
    values,
    cwd: scratch,
    env: {},
    rest: '',
    identify: async () => {
      const fields = await service.infoServer();
      return fields ? identityFromInfo(fields) : undefined;
    },
    versionLine: async () => (await service.exec(['redis-server', '--version'])).stdout.trim(),
  };
}

/** Starts a host process server for a host flavor. */
async function hostStage(flavor: HostFlavor, engine: Engine, scratch: string, run: Run): Promise<Stage<DisposableRedis>> {
  if (flavor.systemd) return systemdStage(flavor, engine, scratch, run);
  let server: DisposableRedis | undefined;
  if (flavor.server !== false) {
    server = await startRedis(flavor.server, engine);
    const started = server;
    run.cleanup.push(() => started.dispose());
    run.logTail = () => started.logTail(10);
    if (server.password) run.secrets.push(server.password);
    await flavor.setup?.(server as never, scratch);
  }
  const values = {
    ...fileNameValues(flavor.server),
    ...serverValues(server),
    ...(await flavor.values?.(valuesContext(server, scratch, engine, run))),
  };
  const running = server;
  return {
    server,
    values,
    cwd: scratch,
    env: { ...server?.env },
    rest: pathOf(projectBin, process.env.PATH),
    identify: async () => (running?.running ? identityFromInfo((await running.info('server')).server ?? {}) : undefined),
    versionLine: () => versionLine(engine.server),
  };
}

/**
 * Starts a disposable container (or Compose project) for a Docker flavor. The page's command runs on
 * the host: from the project dir with COMPOSE_PROJECT_NAME set for Compose, and with a `docker` shim
 * first on PATH when this machine lacks `docker compose` (v2) so `docker compose …` runs docker-compose.
 */
async function dockerStage(flavor: DockerFlavor, engine: Engine, scratch: string, run: Run): Promise<Stage<RedisContainer>> {
  const image = await ensureImage(engine);
  run.docker = { image, identity: await dockerIdentity(image) };
  // An upgrade starts on the image of the engine it moves from; the engine under test is where it goes.
  const from = flavor.upgradeFrom === undefined ? undefined : engineById(flavor.upgradeFrom);
  const fromImage = from && (await ensureImage(from));
  const startImage = fromImage ?? image;
  let server: RedisContainer | undefined;
  if (flavor.server !== false) {
    const extras = { image: startImage.tag, engine: startImage.engine };
    server = flavor.compose ? await startComposeProject(flavor.server, extras) : await startRedisContainer(flavor.server, extras);
    const started = server;
    run.cleanup.push(() => started.dispose());
    run.logTail = () => started.logTail(10);
    if (server.password) run.secrets.push(server.password);
    await flavor.setup?.(server as never, scratch);
  }
  const values: Record<string, string> = {
    host: '127.0.0.1',
    port: '6379',
    dataDir: '/data',
    image: startImage.tag,
    ...fileNameValues(flavor.server),
  };
  if (fromImage) values.newImage = image.tag;
  if (server) Object.assign(values, { container: server.name, volume: server.volume });
  if (server instanceof ComposeRedis) Object.assign(values, { service: server.service, project: server.project });
  Object.assign(values, await flavor.values?.(valuesContext(server, scratch, engine, run)));
  const shim = await composeShim(join(scratch, '.bin')).catch(() => undefined);
  const env: Record<string, string> = { ...server?.env };
  if (server instanceof ComposeRedis) Object.assign(env, server.composeEnv);
  const cwd = server instanceof ComposeRedis ? server.projectDir : scratch;
  const running = server;
  return {
    server,
    values,
    cwd,
    env,
    rest: pathOf(projectBin, shim, process.env.PATH),
    // A setup may leave the container stopped (a repair works on the files of a stopped server).
    identify: async () =>
      running && (await running.isRunning()) ? identityFromInfo((await running.info('server')).server ?? {}) : undefined,
    versionLine: () => imageVersionLine(image.tag),
    ...(from && fromImage
      ? {
          recordAs: (identity: ServerIdentity): Recorded =>
            identityMismatch(from, identity) === undefined && identityMismatch(engine, identity) !== undefined
              ? { identity: { ...identity, engineId: from.id, image: fromImage.tag }, engine: from }
              : { identity: { ...identity, image: image.tag }, engine },
        }
      : {}),
  };
}

/** The result's fingerprint field, or none for a snippet without a definition in the page modules. */
function fingerprintOf(snippet: Snippet, flavorId: FlavorId, flavor: Flavor, engineId: string): { fingerprint?: string } {
  try {
    return { fingerprint: fingerprint(snippet, flavorId, flavor, engineId, projectRoot) };
  } catch {
    return {};
  }
}

/** The engine a verification runs on, with a shim dir (the host engine's too), so its PATH can name only it. */
function verifyEngine(engine: Engine): Engine {
  return engine.binDir || engineUnavailableReason(engine.id) !== undefined ? engine : engineById(engine.id);
}

/**
 * Runs one flavor of a snippet on an engine against a fresh disposable server (a host process, or a
 * container of the engine's image for the Docker flavor) and reports the outcome. Never throws. A
 * Docker flavor is skipped where Docker is missing, and fails then when Docker is required
 * (scripts/harness/docker/available.ts). The result records who answered (INFO server of the
 * server the page's commands reached) and fails when that is not `engine`.
 */
export async function runSnippet(snippet: Snippet, flavorId: FlavorId, flavor: Flavor, given: Engine = hostRedis): Promise<Result> {
  const engine = verifyEngine(given);
  const started = Date.now();
  const verifiedAt = new Date().toISOString();
  const run = newRun(engine);
  let scratch: string | undefined;
  let stage: Stage<unknown> | undefined;
  const base = {
    id: snippet.id,
    flavor: flavorId,
    page: snippet.page,
    command: flavor.command,
    ...(variantFor(flavor, engine.id) ? { variant: variantFor(flavor, engine.id)?.label } : {}),
    // A snippet not defined in scripts/snippets/pages (a test's own) has none: no page can show it as current.
    ...fingerprintOf(snippet, flavorId, flavor, engine.id),
    engine: engine.product,
    engineId: engine.id,
  };
  const finish = (status: Result['status'], error?: string): Result => {
    const own = run.identities.find((recorded) => recorded.engine.id === engine.id)?.identity;
    const others = run.identities.filter((recorded) => recorded.engine.id !== engine.id).map((recorded) => recorded.identity);
    return {
      ...base,
      status,
      version: own?.version ?? engine.version ?? 'unknown',
      ...(own ? { server: own } : {}),
      ...(others.length > 0 ? { otherServers: others } : {}),
      ...(run.docker ? { image: run.docker.image.tag } : {}),
      ...(run.docker?.identity ?? {}),
      ...(run.systemd ? { serviceManager: 'systemd' as const } : {}),
      durationMs: Date.now() - started,
      verifiedAt,
      ...(Object.keys(run.measurements).length > 0 ? { measurements: run.measurements } : {}),
      output: presentOutput(run.recorded.join('\n').trimEnd(), run.values, run.secrets, flavorId),
      ...(error === undefined ? {} : { error: presentOutput(error, run.values, run.secrets, flavorId) }),
    };
  };
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
      await withImageEngine(engine, async () => {
        // The images first (a build may take minutes), then the server, setup and values within the flavor's bound.
        await ensureImage(engine);
        if (docker.upgradeFrom !== undefined) await ensureImage(engineById(docker.upgradeFrom));
        const dockerRun = await withDeadline(docker.timeoutMs, `Setup of ${snippet.id} (docker)`, () =>
          dockerStage(docker, engine, dir, run),
        );
        stage = dockerRun;
        await verifyOn(snippet, flavorId, docker, engine, dockerRun, dir, run);
      });
    } else {
      const host = flavor as HostFlavor;
      const dir = scratch;
      const hostRun = await withDeadline(host.timeoutMs, `Setup of ${snippet.id} (host)`, () => hostStage(host, engine, dir, run));
      stage = hostRun;
      await verifyOn(snippet, flavorId, host, engine, hostRun, scratch, run);
    }
    await recordProgramIdentity(engine, stage, run);
    const problems = identityProblems(engine, run.identities, snippet.crossEngine);
    result = problems.length === 0 ? finish('passed') : finish('failed', `Provenance: ${problems.join('; ')}`);
  } catch (error) {
    // A program or image the block needs is missing here: skipped, or failed when everything is required.
    if (error instanceof UnavailableHere) {
      result = finish(error.status, error.message);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      const log = await run.logTail().catch(() => '');
      await recordProgramIdentity(engine, stage, run).catch(() => undefined);
      // A server of another engine answering is the likelier cause of the failure: said first.
      const problems = run.identities.length > 0 ? identityProblems(engine, run.identities, snippet.crossEngine) : [];
      const why = problems.length > 0 ? `Provenance: ${problems.join('; ')}\n${message}` : message;
      result = finish('failed', log ? `${why}\n--- server log (last lines) ---\n${log}` : why);
    }
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
    const leftover = await removeScratch(scratch);
    liveScratch.delete(scratch);
    if (leftover) result = { ...result, status: 'failed', error: result.error ? `${result.error}\n${leftover}` : leftover };
  }
  return result;
}

/**
 * Removes a verification's scratch dir. A process may still be writing its last files there (a save
 * child whose server was just killed finishes its temp file): the removal is tried again for up to
 * 2 s. If something still writes then, the block left a process behind: it is killed, the dir
 * removed, and the returned line says so (the block fails). Never throws: one block's clean-up must
 * not end the whole run.
 */
async function removeScratch(dir: string): Promise<string | undefined> {
  const remove = () => rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
  const deadline = performance.now() + 2_000;
  for (;;) {
    try {
      await remove();
      return undefined;
    } catch (error) {
      if (performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      killProcessesIn(dir);
      await remove().catch(() => undefined);
      return `Cleanup: something still wrote in the scratch dir ${dir} 2 s after the block ended (${(error as Error).message}); it was killed`;
    }
  }
}

/**
 * When no server of the engine under test was identified yet: INFO server of the stage's server if it
 * still runs (a command that started it), else the `--version` line of the server program that ran.
 */
async function recordProgramIdentity(engine: Engine, stage: Stage<unknown> | undefined, run: Run): Promise<void> {
  if (stage?.recordAs) {
    // An upgrade or its undo: the server that answers now may be the other image's; each is named once.
    const identity = await stage.identify().catch(() => undefined);
    const recorded = identity && stage.recordAs(identity);
    if (recorded && !run.identities.some((known) => known.engine.id === recorded.engine.id)) run.identities.push(recorded);
  }
  if (!stage || run.identities.some((recorded) => recorded.engine.id === engine.id)) return;
  const identity = (await stage.identify().catch(() => undefined)) ?? identityFromVersionLine(await stage.versionLine());
  if (identity) run.identities.push({ identity, engine });
}
