import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { Engine } from '../engine.ts';
import { DisposedAtExit } from '../exit-hook.ts';
import { outsideCancel } from '../../core/cancel.ts';
import { TEMP_PREFIX } from '../leftovers.ts';
import { fatal, waitFor } from '../wait.ts';
import { parseInfo, type InfoSections } from '../../redis/info.ts';
import { connected, withOpenClient } from '../../procedures/scratch-server.ts';
import { clientOptions, type ServerUnderTest } from '../../procedures/server-under-test.ts';
import { requireDocker } from './available.ts';
import { docker, dockerSync, dockerTry, type DockerOutput } from './exec.ts';
import { currentImageEngine, ensureImage } from './image.ts';
import { ContainerOptionsSchema, serverArgs, uniqueNames, type ContainerOptions, type DockerNames } from './options.ts';

/** Label on every container and volume the harness makes (leftover checks find them by it and by name). */
export const HARNESS_LABEL = 'org.redis-playbook.harness';
/** Where the harness's directory (config file, unix socket) is mounted inside the container. */
export const HARNESS_MOUNT = '/run/redis-playbook';
/** The harness's config file inside the container: the first argument of `redis-server`. */
export const HARNESS_CONF = `${HARNESS_MOUNT}/harness.conf`;

/** Containers alive in this process, removed on exit whatever happens. */
const live = new DisposedAtExit<RedisContainer>((container) => {
  container.disposeSync();
});

/** Quotes a value for redis.conf. */
function confQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * Writes the harness's directory: `harness.conf` (mode 0600: it may hold the password) naming the
 * unix socket the harness reaches the server through. Every image drops to uid 999 as the official
 * ones do (the local builds too), so the directory is chowned to REDIS_PLAYBOOK_IMAGE_UID (default 999)
 * when this process may chown.
 */
async function writeHarnessDir(runDir: string, password: string | undefined): Promise<void> {
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  const lines = [
    '# Written by the Redis Playbook harness: how the harness reaches this disposable server.',
    `unixsocket ${HARNESS_MOUNT}/redis.sock`,
    'unixsocketperm 777',
  ];
  if (password) lines.push(`requirepass ${confQuote(password)}`);
  const conf = join(runDir, 'harness.conf');
  await writeFile(conf, `${lines.join('\n')}\n`, { mode: 0o600 });
  // Every image the harness runs drops to uid 999 as the official ones do (the local builds too, from layout 2).
  if (process.getuid?.() === 0) {
    const uid = Number(process.env.REDIS_PLAYBOOK_IMAGE_UID ?? 999);
    await chown(runDir, uid, uid);
    await chown(conf, uid, uid);
  }
}

/** What {@link RedisContainer} is made of. */
export interface ContainerInit {
  names: DockerNames;
  image: string;
  /** The engine the image runs. */
  engine: Engine;
  /** Host temp dir of this container (harness dir, compose file). */
  root: string;
  options: z.output<typeof ContainerOptionsSchema>;
  /** Whether the harness dir (config file, socket) is mounted: false for a reader's compose file run as given. */
  harnessDir: boolean;
}

/**
 * A Redis server in a disposable container: unique name, unique named volume at /data, its own
 * network namespace (loopback only), so Redis listens on its default port 6379 and no two containers
 * collide. Reach it with `docker exec` ({@link cli}) or, from the host, through the unix socket in
 * the mounted harness dir ({@link client}). It can be stopped (`docker stop`: SIGTERM, Redis saves
 * per its config), killed (`docker kill`: SIGKILL) and started again on the same volume. Disposal
 * (also `await using`, also on process exit) removes the container and its volume.
 */
export class RedisContainer implements ServerUnderTest {
  /** Address and port as seen inside the container (what `docker exec NAME redis-cli` uses). */
  readonly host = '127.0.0.1';
  readonly port = 6379;
  /** The data dir inside the container (`CONFIG GET dir`). */
  readonly dir = '/data';
  readonly image: string;
  /** The engine the image runs (its image's: the Docker flavor runs on Redis 7.0 and 8.0). */
  readonly engine: Engine;
  /** Host temp dir of this container (harness dir, compose files); removed on disposal. */
  readonly root: string;
  readonly password: string | undefined;
  /** The `redis-server` options from the scenario's config (argv after the harness's config file). */
  readonly serverArgs: string[];
  protected names: DockerNames;
  protected options: z.output<typeof ContainerOptionsSchema>;
  protected disposed = false;
  readonly #harnessDir: boolean;

  constructor(init: ContainerInit) {
    this.names = { ...init.names };
    this.image = init.image;
    this.engine = init.engine;
    this.root = init.root;
    this.options = init.options;
    this.password = init.options.password;
    this.serverArgs = serverArgs(init.options.config);
    this.#harnessDir = init.harnessDir;
  }

  /** Container name. */
  get name(): string {
    return this.names.container;
  }

  /** Named volume mounted at /data. */
  get volume(): string {
    return this.names.volume;
  }

  /** Host path of the harness dir mounted at {@link HARNESS_MOUNT}. */
  get harnessDir(): string | undefined {
    return this.#harnessDir ? join(this.root, 'run') : undefined;
  }

  /** Host path of the server's unix socket, when the harness dir is mounted. */
  get socket(): string | undefined {
    const dir = this.harnessDir;
    return dir ? join(dir, 'redis.sock') : undefined;
  }

  /** `unix://SOCKET` from the host (no password: give it through {@link env}), or `redis://127.0.0.1:6379` inside the container. */
  get url(): string {
    return this.socket ? `unix://${this.socket}` : `redis://${this.host}:${this.port}`;
  }

  /** Environment for `redis-cli` (`REDISCLI_AUTH` when the server has a password). */
  get env(): Record<string, string> {
    return this.password ? { REDISCLI_AUTH: this.password } : {};
  }

  /** `docker inspect` state: running, exited, created, restarting, …; undefined when the container is gone. */
  async state(): Promise<string | undefined> {
    const result = await dockerTry(['container', 'inspect', '--format', '{{.State.Status}}', this.name]);
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  async isRunning(): Promise<boolean> {
    return (await this.state()) === 'running';
  }

  /** Creates the volume and the container (not started). */
  async create(): Promise<void> {
    const labels = ['--label', `${HARNESS_LABEL}=1`];
    await docker(['volume', 'create', ...labels, this.volume]);
    await this.prepareVolume();
    await docker([
      'container',
      'create',
      '--name',
      this.name,
      ...labels,
      '--network',
      'none',
      ...this.runAs(),
      '--volume',
      `${this.volume}:/data`,
      ...(this.harnessDir ? ['--volume', `${this.harnessDir}:${HARNESS_MOUNT}`] : []),
      this.image,
      'redis-server',
      ...(this.harnessDir ? [HARNESS_CONF] : []),
      ...this.serverArgs,
    ]);
  }

  /** Prepares the new, empty volume before the container is created on it (nothing here; a subclass may). */
  protected prepareVolume(): Promise<void> {
    return Promise.resolve();
  }

  /** `docker container create` options of the user the server runs as (none here: the image's own). */
  protected runAs(): string[] {
    return [];
  }

  /** `docker start`, then waits until the server answers PING (its data loaded). */
  async start(): Promise<void> {
    await docker(['start', this.name]);
    await this.waitReady();
  }

  /** Polls PING (through the socket when mounted, else `docker exec`) until PONG; fails at once if the container exits. */
  protected async waitReady(): Promise<void> {
    // Asking Docker for the state costs a CLI call: do it at most every 250 ms while PING fails.
    let stateCheckedAt = Date.now();
    await waitFor(
      async () => {
        try {
          if (this.socket) {
            await this.withClient((client) => client.ping());
            return true;
          } else if ((await this.cli(['PING'])).stdout.trim() === 'PONG') return true;
        } catch {
          // not yet
        }
        if (Date.now() - stateCheckedAt < 250) return false;
        stateCheckedAt = Date.now();
        const state = await this.state();
        if (state !== 'running' && state !== 'created' && state !== 'restarting') {
          throw fatal(`Container ${this.name} is ${state ?? 'gone'} instead of starting:\n${await this.logTail()}`);
        }
        return false;
      },
      { what: `Redis in container ${this.name} to answer PING`, timeoutMs: this.options.readyTimeoutMs },
    );
  }

  /** `docker stop`: SIGTERM, so Redis shuts down gracefully (saving per its config); SIGKILL after the stop timeout. */
  async stop(): Promise<void> {
    await docker(['stop', '--time', String(this.options.stopTimeoutSec), this.name], {
      timeoutMs: (this.options.stopTimeoutSec + 60) * 1000,
    });
  }

  /** `docker kill` (SIGKILL by default: a crash, no final save), then waits until the container is down. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!(await this.isRunning())) return;
    await docker(['kill', '--signal', signal, this.name]);
    await waitFor(async () => !(await this.isRunning()), { what: `container ${this.name} to stop after ${signal}`, timeoutMs: 30_000 });
  }

  /** Runs `redis-cli ARGS` inside the container (`docker exec`; the password through REDISCLI_AUTH, never argv). Never rejects. */
  cli(args: string[], options: { input?: string } = {}): Promise<DockerOutput> {
    const exec = ['exec', ...(options.input === undefined ? [] : ['-i']), ...(this.password ? ['-e', 'REDISCLI_AUTH'] : []), this.name];
    return dockerTry([...exec, 'redis-cli', ...args], { env: this.env, input: options.input, timeoutMs: 60_000 });
  }

  /** Runs a program inside the container (`docker exec NAME ARGS`). Never rejects. */
  exec(args: string[], options: { input?: string } = {}): Promise<DockerOutput> {
    return dockerTry(['exec', ...(options.input === undefined ? [] : ['-i']), this.name, ...args], {
      input: options.input,
      timeoutMs: 60_000,
    });
  }

  /** A connected ioredis client over the unix socket; close it with `quit()` (or use {@link withClient}). */
  async client(db = 0): Promise<Redis> {
    if (!this.socket) throw new Error(`Container ${this.name} runs a compose file as given: no harness socket; use cli() (docker exec)`);
    const client = new Redis(clientOptions({ path: this.socket }, this.password, db));
    return connected(client);
  }

  /** Runs `fn` with a client and closes it afterwards. */
  withClient<T>(fn: (client: Redis) => Promise<T>, db = 0): Promise<T> {
    return withOpenClient(() => this.client(db), fn);
  }

  /** `INFO [section]`, parsed (through the socket when mounted, else `docker exec`). */
  async info(section?: string): Promise<InfoSections> {
    if (this.socket) return this.withClient(async (client) => parseInfo(await (section ? client.info(section) : client.info())));
    const result = await this.cli(section ? ['INFO', section] : ['INFO']);
    if (result.exitCode !== 0) throw new Error(`INFO failed in ${this.name}: ${result.stderr || result.stdout}`);
    return parseInfo(result.stdout);
  }

  /** The container's whole log (`docker logs`: Redis logs to stdout). */
  async logs(): Promise<string> {
    const result = await dockerTry(['logs', this.name]);
    return `${result.stdout}${result.stdout && result.stderr ? '\n' : ''}${result.stderr}`;
  }

  /** The last lines of the container's log. */
  async logTail(count = 30): Promise<string> {
    const result = await dockerTry(['logs', '--tail', String(count), this.name]);
    return `${result.stdout}\n${result.stderr}`.trim();
  }

  /** Names of the entries of `/data/<sub>` (`ls -A` in a throwaway container on the volume), sorted. */
  async dataEntries(sub = ''): Promise<string[]> {
    const out = await this.onVolume(`ls -A /data/${sub}`);
    return out
      .split('\n')
      .map((name) => name.trim())
      .filter(Boolean)
      .sort();
  }

  /** The bytes of `/data/<path>` (copied out with `docker cp`). */
  async readDataFile(path: string): Promise<Buffer> {
    let bytes: Buffer | undefined;
    await this.#withCopy(
      path,
      async (file) => {
        bytes = await readFile(file);
      },
      false,
    );
    return bytes ?? Buffer.alloc(0);
  }

  /** Copies `/data/<path>` out of the container, runs `change` on the copy, copies it back. */
  withDataFile(path: string, change: (file: string) => Promise<void>): Promise<void> {
    return this.#withCopy(path, change, true);
  }

  async #withCopy(path: string, fn: (file: string) => Promise<void>, putBack: boolean): Promise<void> {
    const dir = await mkdtemp(join(this.root, 'file-'));
    try {
      const local = join(dir, basename(path));
      await docker(['cp', `${this.name}:${this.dir}/${path}`, local]);
      await fn(local);
      if (putBack) await docker(['cp', local, `${this.name}:${this.dir}/${path}`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Runs `sh -ec SCRIPT` in a throwaway container of the server's image on its volume (at /data); its stdout. */
  async onVolume(script: string, input?: string): Promise<string> {
    const result = await docker(
      [
        'run',
        '--rm',
        ...(input === undefined ? [] : ['-i']),
        '--network',
        'none',
        '-v',
        `${this.volume}:/data`,
        this.image,
        'sh',
        '-ec',
        script,
      ],
      { input },
    );
    return result.stdout;
  }

  /** Removes the container and its volume; returns what could not be removed. */
  protected async removeResources(): Promise<string[]> {
    await dockerTry(['rm', '--force', '--volumes', this.name]);
    await dockerTry(['volume', 'rm', '--force', this.volume]);
    return this.remaining();
  }

  /** Names of this container's things that still exist. */
  protected async remaining(): Promise<string[]> {
    const left: string[] = [];
    if ((await dockerTry(['container', 'inspect', '--format', '{{.Id}}', this.name])).exitCode === 0) left.push(`container ${this.name}`);
    if ((await dockerTry(['volume', 'inspect', '--format', '{{.Name}}', this.volume])).exitCode === 0) left.push(`volume ${this.volume}`);
    return left;
  }

  /** Synchronous removal for the process-exit hook. */
  protected removeResourcesSync(): void {
    dockerSync(['rm', '--force', '--volumes', this.name]);
    dockerSync(['volume', 'rm', '--force', this.volume]);
  }

  /** Removes the container (killing it), its volume and the temp dir. Safe to call twice; throws if something stayed. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    let left: string[];
    try {
      // Also when a verification's time is up: the removal itself must not be cancelled.
      left = await outsideCancel(() => this.removeResources());
    } finally {
      await rm(this.root, { recursive: true, force: true });
      live.delete(this);
    }
    if (left.length > 0) throw new Error(`Could not remove ${left.join(', ')}`);
  }

  /** Synchronous disposal for the process-exit hook. */
  disposeSync(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.removeResourcesSync();
    rmSync(this.root, { recursive: true, force: true });
    live.delete(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** Extra knobs of {@link startRedisContainer} for the harness itself. */
export interface StartContainerExtras {
  /** Image to run (default: {@link ensureImage} of {@link currentImageEngine}). */
  image?: string;
  /** The engine `image` runs (default: {@link currentImageEngine}). */
  engine?: Engine;
  /** Names to use (default: fresh unique ones). */
  names?: DockerNames;
}

/** Registers a container for the exit hook and prepares its temp dir; shared by the compose variant. */
export async function prepareContainer<T extends RedisContainer>(
  options: ContainerOptions,
  extras: StartContainerExtras,
  make: (init: ContainerInit) => T,
  harnessDir = true,
): Promise<T> {
  const parsed = ContainerOptionsSchema.parse(options);
  await requireDocker();
  const engine = extras.engine ?? currentImageEngine();
  const image = extras.image ?? (await ensureImage(engine)).tag;
  const root = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}docker-`));
  const container = make({ names: extras.names ?? uniqueNames(), image, engine, root, options: parsed, harnessDir });
  live.add(container);
  try {
    if (harnessDir) await writeHarnessDir(join(root, 'run'), parsed.password);
  } catch (error) {
    await container.dispose().catch(() => undefined);
    throw error;
  }
  return container;
}

/**
 * Starts a disposable Redis container with the config the scenario asks for and waits until it
 * answers. Use as `await using redis = await startRedisContainer({ config: { appendonly: 'yes' } })`.
 */
export async function startRedisContainer(options: ContainerOptions = {}, extras: StartContainerExtras = {}): Promise<RedisContainer> {
  const container = await prepareContainer(options, extras, (init) => new RedisContainer(init));
  try {
    await container.create();
    await container.start();
    return container;
  } catch (error) {
    const log = await container.logTail(20).catch(() => '');
    await container.dispose().catch(() => undefined);
    if (log && error instanceof Error && !error.message.includes(log)) error.message += `\n--- container log ---\n${log}`;
    throw error;
  }
}
