import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, link, mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { hostRedis, type Engine } from '../engines/engine.ts';
import { freePort } from '../core/free-port.ts';
import { DisposedAtExit, killProcessesIn } from '../core/exit-hook.ts';
import { TEMP_PREFIX } from '../core/temp.ts';
import { currentSignal, onCancel } from '../core/cancel.ts';
import { runProgram, type ProgramRun } from '../core/run.ts';
import { fatal, waitFor } from '../core/wait.ts';
import { parseInfo, type InfoSections } from '../redis/info.ts';
import { clientOptions, type ServerUnderTest } from './server-under-test.ts';

/** What a scenario asks of its disposable server. */
export const RedisServerOptionsSchema = z.object({
  /**
   * redis.conf directives, written one per line as `name value` (the value verbatim, so
   * `save: '900 1 300 10'` or `save: '""'`); an array writes the directive once per element.
   * `port`, `bind`, `dir`, `logfile`, `daemonize` and `requirepass` are the harness's own.
   */
  config: z.record(z.string(), z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])).default({}),
  /** Sets `requirepass`; the password goes into the 0600 config file, never into argv. */
  password: z.string().min(1).optional(),
  /** Name of the data directory inside the temp dir (may contain spaces). */
  dataDirName: z.string().min(1).default('data'),
  /**
   * Files put into the data dir before the first start: name in the data dir → source path. Hard
   * linked where possible (Redis replaces its files by rename, never in place), else copied.
   */
  initialFiles: z.record(z.string(), z.string()).default({}),
  /** Addresses to listen on besides 127.0.0.1 (`::1` for IPv6); the harness itself talks to 127.0.0.1. */
  alsoBind: z.array(z.string().min(1)).default([]),
  /**
   * Run as Redis Sentinel: `redis-server CONFIG --sentinel`, the engine's own Sentinel (what Debian's
   * `redis-sentinel` program is: the same binary). Give its `sentinel …` lines as `config.sentinel`.
   */
  sentinel: z.boolean().default(false),
  /** Milliseconds to wait for the first PONG. */
  readyTimeoutMs: z.number().int().positive().default(60_000),
});
export type RedisServerOptions = z.input<typeof RedisServerOptionsSchema>;

const HARNESS_DIRECTIVES = new Set(['port', 'bind', 'dir', 'logfile', 'daemonize', 'requirepass']);

/** Servers and temp dirs alive in this process, killed and removed on exit whatever happens. */
const live = new DisposedAtExit<DisposableRedis>((server) => {
  server.disposeSync();
});

/** Connects a lazy ioredis client; its failures reach the caller as rejected commands (without a listener ioredis also logs them). */
export async function connected(client: Redis): Promise<Redis> {
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Runs `fn` with the client `open` connects, and disconnects it afterwards, also on failure. */
export async function withOpenClient<T>(open: () => Promise<Redis>, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = await open();
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/** Quotes a value for redis.conf (double quotes, backslash escapes). */
function confQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * A real `redis-server` on 127.0.0.1 and an OS-assigned port, in its own temp dir. It can be
 * stopped gracefully, killed with any signal and started again on the same dir. Disposal (also
 * `await using`, also on process exit) kills the process and removes the dir.
 */
export class DisposableRedis implements ServerUnderTest {
  readonly engine: Engine;
  readonly host = '127.0.0.1';
  readonly port: number;
  /** The temp dir holding config, log and data dir. */
  readonly root: string;
  /** The data dir (`CONFIG GET dir`). */
  readonly dir: string;
  readonly logFile: string;
  readonly configFile: string;
  readonly password: string | undefined;
  #options: z.infer<typeof RedisServerOptionsSchema>;
  #process: ChildProcess | undefined;
  #exited: Promise<void> | undefined;

  constructor(engine: Engine, port: number, root: string, options: z.infer<typeof RedisServerOptionsSchema>) {
    this.engine = engine;
    this.port = port;
    this.root = root;
    this.dir = join(root, options.dataDirName);
    this.logFile = join(root, 'redis.log');
    this.configFile = join(root, 'redis.conf');
    this.password = options.password;
    this.#options = options;
  }

  /** `redis://127.0.0.1:PORT` (no password: give it through `REDISCLI_AUTH` or {@link env}). */
  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  /** Environment for `redis-cli` and the CLI: `REDISCLI_AUTH` when the server has a password. */
  get env(): Record<string, string> {
    return this.password ? { REDISCLI_AUTH: this.password } : {};
  }

  /** Process id of the running server, or undefined when stopped. */
  get pid(): number | undefined {
    return this.#process?.exitCode === null && this.#process.signalCode === null ? this.#process.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  isRunning(): Promise<boolean> {
    return Promise.resolve(this.running);
  }

  /** Writes the config file (0600), merging `extraConfig` over the scenario's config for this start. */
  async #writeConfig(extraConfig: RedisServerOptions['config']): Promise<void> {
    const directives = { ...this.#options.config, ...extraConfig };
    const lines = [
      `port ${this.port}`,
      `bind ${['127.0.0.1', ...this.#options.alsoBind].join(' ')}`,
      `dir ${confQuote(this.dir)}`,
      `logfile ${confQuote(this.logFile)}`,
      'daemonize no',
    ];
    if (this.password) lines.push(`requirepass ${confQuote(this.password)}`);
    for (const [name, value] of Object.entries(directives)) {
      if (HARNESS_DIRECTIVES.has(name)) throw new Error(`The harness sets "${name}" itself; remove it from config`);
      for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name} ${item}`);
    }
    await writeFile(this.configFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  }

  /** Starts the server on its dir and waits until it answers PING. */
  async start(extraConfig: RedisServerOptions['config'] = {}): Promise<void> {
    if (this.running) throw new Error(`redis-server on port ${this.port} is already running`);
    await this.#writeConfig(extraConfig);
    currentSignal()?.throwIfAborted();
    const child = spawn(this.engine.server, [this.configFile, ...(this.#options.sentinel ? ['--sentinel'] : [])], { stdio: 'ignore' });
    this.#process = child;
    // Started under a bound (a verification): killed at once when its time is up.
    const undoCancel = onCancel(() => child.kill('SIGKILL'));
    this.#exited = new Promise((resolve) => {
      child.once('exit', () => {
        resolve();
      });
      child.once('error', () => {
        resolve();
      });
    });
    void this.#exited.then(undoCancel);
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    await waitFor(
      async () => {
        if (spawnError) throw fatal(`Cannot run ${this.engine.server}: ${spawnError.message}`);
        if (!this.running) {
          throw fatal(`redis-server exited during start:\n${await this.logTail()}`);
        }
        const pong = await this.cli(['PING']);
        return pong.stdout.trim() === 'PONG';
      },
      { what: `redis-server on port ${this.port} to answer PING`, timeoutMs: this.#options.readyTimeoutMs },
    );
  }

  /** Graceful stop: `SHUTDOWN` (saves per the config, as a service manager's stop does), then waits for exit. */
  async stop({ save }: { save?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    const args = save === undefined ? ['SHUTDOWN'] : ['SHUTDOWN', save ? 'SAVE' : 'NOSAVE'];
    const result = await this.cli(args);
    const reply = `${result.stdout}${result.stderr}`.trim();
    if (reply.startsWith('(error)') || reply.startsWith('ERR')) throw new Error(`SHUTDOWN refused: ${reply}`);
    await this.#waitExit(15_000);
  }

  /** Sends a signal (default SIGKILL: a process crash) and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.#process?.kill(signal);
    await this.#waitExit(15_000);
  }

  async #waitExit(timeoutMs: number): Promise<void> {
    const exited = this.#exited;
    if (!exited) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`redis-server on port ${this.port} did not exit within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs the engine's CLI against this server (`-h -p` set, password through REDISCLI_AUTH). Never rejects. */
  cli(args: string[], options: { input?: string } = {}): Promise<ProgramRun> {
    return runProgram(this.engine.cli, ['-h', this.host, '-p', String(this.port), ...args], {
      env: this.env,
      input: options.input,
      timeoutMs: 60_000,
    });
  }

  /** A connected ioredis client; close it with `quit()` (or use {@link withClient}). */
  async client(db = 0): Promise<Redis> {
    return connected(new Redis(clientOptions({ host: this.host, port: this.port }, this.password, db)));
  }

  /** Runs `fn` with a client and closes it afterwards. */
  withClient<T>(fn: (client: Redis) => Promise<T>, db = 0): Promise<T> {
    return withOpenClient(() => this.client(db), fn);
  }

  /** `INFO [section]`, parsed. */
  async info(section?: string): Promise<InfoSections> {
    return this.withClient(async (client) => parseInfo(await (section ? client.info(section) : client.info())));
  }

  /** The last lines of the server's log. */
  async logTail(lines = 30): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** The server's whole log. */
  log(): Promise<string> {
    return readFile(this.logFile, 'utf8').catch(() => '');
  }

  /** The server's whole log (as {@link ServerUnderTest} names it). */
  logs(): Promise<string> {
    return this.log();
  }

  /** Names of the entries of the data dir (or `sub` below it), sorted. */
  async dataEntries(sub = ''): Promise<string[]> {
    return (await readdir(join(this.dir, sub))).sort();
  }

  /** The bytes of a file of the data dir. */
  readDataFile(path: string): Promise<Buffer> {
    return readFile(join(this.dir, path));
  }

  /** Runs `change` on the data dir's file itself. */
  async withDataFile(path: string, change: (file: string) => Promise<void>): Promise<void> {
    await change(join(this.dir, path));
  }

  /** Kills the process (if any) and removes the temp dir. Safe to call twice. */
  async dispose(): Promise<void> {
    await this.kill('SIGKILL').catch(() => undefined);
    // Another server a page's command started on this data dir by itself (a daemonized redis-server
    // a failed verification left running), as on an interrupted run.
    killProcessesIn(this.root);
    await rm(this.root, { recursive: true, force: true });
    live.delete(this);
  }

  /** Synchronous disposal for the process-exit hook. */
  disposeSync(): void {
    try {
      if (this.running) this.#process?.kill('SIGKILL');
    } catch {
      // already gone
    }
    // Another server a page's command started on this data dir by itself, if any.
    killProcessesIn(this.root);
    rmSync(this.root, { recursive: true, force: true });
    live.delete(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/**
 * Starts a disposable Redis with the config the scenario asks for and waits until it answers
 * (on a free port, or one `ports.pick` chooses: a cluster node needs its bus port free too).
 * Use as `await using redis = await startRedis({ config: { appendonly: 'yes' } })`.
 */
export async function startRedis(
  options: RedisServerOptions = {},
  engine: Engine = hostRedis,
  ports: { pick?: () => Promise<number> } = {},
): Promise<DisposableRedis> {
  const parsed = RedisServerOptionsSchema.parse(options);
  const root = await mkdtemp(join(tmpdir(), TEMP_PREFIX));
  const dir = join(root, parsed.dataDirName);
  try {
    await mkdir(dir, { recursive: true });
    for (const [name, source] of Object.entries(parsed.initialFiles)) {
      await link(source, join(dir, name)).catch(() => copyFile(source, join(dir, name)));
    }
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  for (let attempt = 1; ; attempt++) {
    const server = new DisposableRedis(engine, await (ports.pick ?? freePort)(), root, parsed);
    live.add(server);
    try {
      await server.start();
      return server;
    } catch (error) {
      const log = await server.logTail();
      await server.kill('SIGKILL').catch(() => undefined);
      live.delete(server);
      // Another process may have taken the port between our probe and the server's bind.
      if (attempt < 3 && log.includes('Address already in use')) continue;
      await rm(root, { recursive: true, force: true });
      throw error;
    }
  }
}
