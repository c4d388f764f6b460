import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../exec.ts';
import type { Engine } from '../../harness/engine.ts';
import { processAlive } from '../../harness/exit-hook.ts';
import { freePort } from '../../harness/free-port.ts';
import { fatal, waitFor } from '../../harness/wait.ts';
import type { ValuesFn, Values, VerifyContext } from '../schema.ts';

/**
 * A redis-server run as the `redis` user, as Debian's package runs it, for faults that root cannot
 * reproduce: root writes into any directory whatever its permissions, so a data dir Redis cannot
 * write to only exists for a server that is not root. Started with `runuser`, in the verification's
 * scratch dir, on the port and paths its placeholder values name, with the server program of the
 * engine under test (never one found on PATH); {@link ServiceUserServer.kill} ends it.
 */
export class ServiceUserServer {
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly dir: string;
  readonly logFile: string;
  readonly engine: Engine;
  readonly #pidFile: string;

  constructor(values: Values<ServiceUserKey>, scratch: string, engine: Engine) {
    this.engine = engine;
    this.port = Number(values.port);
    this.dir = values.dataDir;
    this.logFile = values.logFile;
    this.#pidFile = join(scratch, 'redis.pid');
  }

  /** Runs the engine's redis-cli against it. Never rejects. */
  cli(args: string[], input?: string) {
    return exec(this.engine.cli, ['-h', this.host, '-p', String(this.port), ...args], { reject: false, input, timeout: 30_000 });
  }

  /** A field of INFO persistence. */
  async persistence(field: string): Promise<string | undefined> {
    const { stdout } = await this.cli(['INFO', 'persistence']);
    return new RegExp(`^${field}:(.*)$`, 'm').exec(stdout.replace(/\r/g, ''))?.[1];
  }

  /** Waits until no BGSAVE runs and returns `rdb_last_bgsave_status`. */
  async bgsaveDone(): Promise<string> {
    await waitFor(async () => (await this.persistence('rdb_bgsave_in_progress')) === '0', { what: 'the BGSAVE to end', timeoutMs: 15_000 });
    return (await this.persistence('rdb_last_bgsave_status')) ?? '';
  }

  /** The pid from its pid file, if it wrote one. */
  async pid(): Promise<number | undefined> {
    const pid = Number(await readFile(this.#pidFile, 'utf8').catch(() => ''));
    return pid > 0 ? pid : undefined;
  }

  /** Kills it (SIGKILL) and waits until the process is gone. Safe when it never started. */
  async kill(): Promise<void> {
    const pid = await this.pid();
    if (!pid) return;
    const alive = () => processAlive(pid);
    if (alive()) process.kill(pid, 'SIGKILL');
    await waitFor(() => !alive(), { what: `redis-server ${pid} to exit` });
  }
}

/** The placeholder values of a service-user server: a free port, its data dir and log file in scratch. */
/** The placeholders a service-user server's values fill. */
export type ServiceUserKey = 'host' | 'port' | 'dataDir' | 'logFile';

export const serviceUserValues: ValuesFn<unknown, Record<ServiceUserKey, string>> = async ({ scratch }) => ({
  host: '127.0.0.1',
  port: String(await freePort()),
  dataDir: join(scratch, 'data'),
  logFile: join(scratch, 'redis.log'),
});

/**
 * Starts a server as the `redis` user with the given config (`--name value` pairs) and waits until
 * it answers. The scratch dir is opened for traversal (the temp dir is root's, mode 0700), the data
 * dir and log file are given to `redis`, as a package install leaves them.
 */
export async function startAsServiceUser(
  ctx: Pick<VerifyContext<unknown, ServiceUserKey>, 'values' | 'scratch' | 'engine' | 'identify'>,
  config: string[],
): Promise<ServiceUserServer> {
  const { values, scratch, engine } = ctx;
  const server = new ServiceUserServer(values, scratch, engine);
  await chmod(scratch, 0o755);
  await mkdir(server.dir, { recursive: true });
  await writeFile(server.logFile, '');
  await writeFile(join(scratch, 'redis.pid'), '');
  await exec('chown', ['redis:redis', server.dir, server.logFile, join(scratch, 'redis.pid')]);
  const args = ['--port', String(server.port), '--bind', server.host, '--dir', server.dir, '--logfile', server.logFile];
  args.push('--daemonize', 'yes', '--pidfile', join(scratch, 'redis.pid'), ...config);
  const started = await exec('runuser', ['-u', 'redis', '--', engine.server, ...args], { reject: false });
  if (started.exitCode !== 0) throw new Error(`runuser -u redis ${engine.server} failed: ${started.stderr || started.stdout}`);
  try {
    await waitFor(
      async () => {
        if (!(await server.pid()) && (await readFile(server.logFile, 'utf8')).includes('Exiting'))
          throw fatal('redis-server (as redis) exited during start');
        return (await server.cli(['PING'])).stdout.trim() === 'PONG';
      },
      { what: `redis-server (as redis) on port ${server.port} to answer PING`, timeoutMs: 15_000 },
    );
    // The report names the server that answered the page's commands: this one.
    await ctx.identify({ host: server.host, port: server.port });
  } catch (error) {
    await server.kill();
    throw new Error(`${(error as Error).message}\n${await readFile(server.logFile, 'utf8').catch(() => '')}`, { cause: error });
  }
  return server;
}
