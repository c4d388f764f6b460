import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { offsiteToolPath } from '../engines/catalog.ts';
import { DisposedAtExit } from './exit-hook.ts';
import { freePort } from './free-port.ts';
import { UnavailableHere } from './require-all.ts';
import { waitFor } from './wait.ts';

/** A live store process, killed if this process exits first. */
const live = new DisposedAtExit<ResultPromise>((child) => child.kill('SIGKILL'));

/** The programs an offsite drill needs: restic, and rclone for the store. Throws {@link UnavailableHere} when missing. */
export function offsiteTools(env: NodeJS.ProcessEnv = process.env): { restic: string; rclone: string } {
  const restic = offsiteToolPath('restic');
  const rclone = offsiteToolPath('rclone');
  if (!restic || !rclone) throw new UnavailableHere('The offsite drill', 'restic or rclone is not in the engine cache (run npm run engines)', env);
  return { restic, rclone };
}

/** Options of {@link startRestStore}. */
export interface RestStoreOptions {
  /** The dir the repositories live in (default: a new temp dir, removed on dispose). */
  dir?: string;
  /** Refuse deletions (`--append-only`): forget and prune fail. */
  appendOnly?: boolean;
  /** The port (default: a free one). */
  port?: number;
  /** The password of the user `playbook` (default: a random one). */
  password?: string;
}

/**
 * A restic REST server on loopback (`rclone serve restic`) over a dir, with a user and a random
 * password in an htpasswd file (never on a command line). `env` holds what restic needs to log in
 * (RESTIC_REST_USERNAME, RESTIC_REST_PASSWORD). `await using` stops it and removes what it made.
 */
export class RestStore implements AsyncDisposable {
  readonly url: string;
  readonly env: Record<string, string>;
  readonly password: string;
  readonly dir: string;
  readonly port: number;
  readonly #root: string;
  readonly #args: string[];
  readonly #rclone: string;
  #child: ResultPromise | undefined;

  constructor(init: { root: string; dir: string; port: number; password: string; rclone: string; args: string[] }) {
    this.#root = init.root;
    this.dir = init.dir;
    this.port = init.port;
    this.password = init.password;
    this.#rclone = init.rclone;
    this.#args = init.args;
    this.url = `rest:http://127.0.0.1:${init.port}/`;
    this.env = { RESTIC_REST_USERNAME: 'playbook', RESTIC_REST_PASSWORD: init.password };
  }

  /** Starts the server and waits until its port accepts connections. */
  async start(): Promise<void> {
    const child = execa(this.#rclone, this.#args, { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', reject: false, env: { RCLONE_CONFIG: '/dev/null' } });
    this.#child = child;
    live.add(child);
    let exited: string | undefined;
    void child.then((result) => {
      exited = String(result.stderr).trim().split('\n').at(-1) ?? '';
    });
    await waitFor(
      async () => {
        if (exited !== undefined) throw Object.assign(new Error(`rclone serve restic exited: ${exited}`), { fatal: true });
        return accepts(this.port);
      },
      { what: `rclone serve restic to listen on 127.0.0.1:${this.port}`, timeoutMs: 20_000 },
    );
  }

  /** Stops the server (the data stays); waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    child.kill('SIGTERM');
    await child;
    live.delete(child);
  }

  /** The server's process ID while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await rm(this.#root, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts a {@link RestStore}. */
export async function startRestStore(options: RestStoreOptions = {}): Promise<RestStore> {
  const { rclone } = offsiteTools();
  const root = await mkdtemp(join(tmpdir(), 'playbook-store-'));
  const dir = options.dir ?? join(root, 'data');
  await mkdir(dir, { recursive: true });
  const password = options.password ?? randomBytes(18).toString('base64url');
  const htpasswd = join(root, 'htpasswd');
  await writeFile(htpasswd, `playbook:{SHA}${createHash('sha1').update(password).digest('base64')}\n`, { mode: 0o600 });
  const port = options.port ?? (await freePort());
  const args = ['serve', 'restic', dir, '--addr', `127.0.0.1:${port}`, '--htpasswd', htpasswd, ...(options.appendOnly ? ['--append-only'] : [])];
  const store = new RestStore({ root, dir, port, password, rclone, args });
  try {
    await store.start();
  } catch (error) {
    await store[Symbol.asyncDispose]();
    throw error;
  }
  return store;
}
