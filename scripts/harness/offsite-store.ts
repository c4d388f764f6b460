import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { offsiteToolPath, s3StoreModules } from '../engines/catalog.ts';
import { DisposedAtExit } from './exit-hook.ts';
import { freePort } from './free-port.ts';
import { TEMP_PREFIX } from './leftovers.ts';
import { UnavailableHere } from './require-all.ts';
import { waitFor } from './wait.ts';

/** A live store process, killed if this process exits first. */
const live = new DisposedAtExit<ResultPromise>((child) => child.kill('SIGKILL'));

/** The bucket of the S3 store. */
export const S3_BUCKET = 'redis-backups';

/** The programs an offsite drill needs: restic, rclone (REST store) and s3rver (S3 store). Throws {@link UnavailableHere} when missing. */
export function offsiteTools(env: NodeJS.ProcessEnv = process.env): { restic: string; rclone: string; s3Modules: string } {
  const restic = offsiteToolPath('restic');
  const rclone = offsiteToolPath('rclone');
  const s3Modules = s3StoreModules();
  if (!restic || !rclone || !s3Modules)
    throw new UnavailableHere('The offsite drill', 'restic, rclone or s3rver is not in the engine cache (run npm run engines)', env);
  return { restic, rclone, s3Modules };
}

/** The kinds of store: a restic REST server (`rclone serve restic`), or S3 over TLS (s3rver). */
export type StoreKind = 'rest' | 's3';

/** Options of {@link startStore}. */
export interface StoreOptions {
  /** The dir the data lives in (default: a new dir in the store's temp dir, removed on dispose). */
  dir?: string;
  /** REST only: refuse deletions (`--append-only`): forget and prune fail. */
  appendOnly?: boolean;
  /** The port (default: a free one). */
  port?: number;
  /** The store's secret (the REST user's password, the S3 secret key); default a random one. */
  password?: string;
}

/**
 * A store on loopback for restic, with a login whose secret is never on a command line. `url` is the
 * repository as restic takes it; `env` is what restic needs to log in (RESTIC_REST_USERNAME and
 * RESTIC_REST_PASSWORD; or AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and RESTIC_CACERT for the store's
 * self-signed certificate). `await using` stops it and removes what it made.
 */
export class OffsiteStore implements AsyncDisposable {
  readonly kind: StoreKind;
  readonly url: string;
  readonly env: Record<string, string>;
  readonly password: string;
  readonly dir: string;
  readonly port: number;
  readonly #root: string;
  readonly #command: { file: string; args: string[]; env: Record<string, string> };
  #child: ResultPromise | undefined;

  constructor(init: {
    kind: StoreKind;
    root: string;
    dir: string;
    port: number;
    password: string;
    url: string;
    env: Record<string, string>;
    command: { file: string; args: string[]; env: Record<string, string> };
  }) {
    this.kind = init.kind;
    this.#root = init.root;
    this.dir = init.dir;
    this.port = init.port;
    this.password = init.password;
    this.url = init.url;
    this.env = init.env;
    this.#command = init.command;
  }

  /** Starts the server and waits until its port accepts connections. */
  async start(): Promise<void> {
    const { file, args, env } = this.#command;
    // Run in its temp dir: the leftover check finds a store process that outlived its test by its cwd.
    const child = execa(file, args, {
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      reject: false,
      env,
      extendEnv: false,
      cwd: this.#root,
    });
    this.#child = child;
    live.add(child);
    let exited: string | undefined;
    void child.then((result) => {
      exited = result.stderr.trim().split('\n').at(-1) ?? '';
    });
    await waitFor(
      async () => {
        if (exited !== undefined) throw Object.assign(new Error(`the ${this.kind} store exited: ${exited}`), { fatal: true });
        return accepts(this.port);
      },
      { what: `the ${this.kind} store to listen on 127.0.0.1:${this.port}`, timeoutMs: 20_000 },
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
    socket.once('error', () => {
      resolve(false);
    });
  });
}

/** The S3 store's access key ID for a secret (the same on each start with that secret). */
export function s3KeyId(secret: string): string {
  return `playbook-${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`;
}

const S3_SERVER = fileURLToPath(new URL('./s3-store-server.ts', import.meta.url));

/** Starts an {@link OffsiteStore} of `kind`. */
export async function startStore(kind: StoreKind, options: StoreOptions = {}): Promise<OffsiteStore> {
  const tools = offsiteTools();
  const root = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}store-${kind}-`));
  const dir = options.dir ?? join(root, 'data');
  await mkdir(dir, { recursive: true });
  const password = options.password ?? randomBytes(18).toString('base64url');
  const port = options.port ?? (await freePort());
  let init: Pick<ConstructorParameters<typeof OffsiteStore>[0], 'url' | 'env' | 'command'>;
  if (kind === 'rest') {
    const htpasswd = join(root, 'htpasswd');
    await writeFile(htpasswd, `playbook:{SHA}${createHash('sha1').update(password).digest('base64')}\n`, { mode: 0o600 });
    init = {
      url: `rest:http://127.0.0.1:${port}/`,
      env: { RESTIC_REST_USERNAME: 'playbook', RESTIC_REST_PASSWORD: password },
      command: {
        file: tools.rclone,
        args: [
          'serve',
          'restic',
          dir,
          '--addr',
          `127.0.0.1:${port}`,
          '--htpasswd',
          htpasswd,
          ...(options.appendOnly ? ['--append-only'] : []),
        ],
        env: { RCLONE_CONFIG: '/dev/null', PATH: process.env.PATH ?? '' },
      },
    };
  } else {
    // Over TLS: on plain HTTP restic signs each upload in chunks (aws-chunked), which s3rver stores as is.
    const key = join(root, 'tls.key');
    const cert = join(root, 'tls.crt');
    await execa(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdin: 'ignore' },
    );
    const login = { AWS_ACCESS_KEY_ID: s3KeyId(password), AWS_SECRET_ACCESS_KEY: password };
    init = {
      url: `s3:https://127.0.0.1:${port}/${S3_BUCKET}`,
      env: { ...login, RESTIC_CACERT: cert },
      command: {
        file: process.execPath,
        args: [S3_SERVER],
        env: {
          ...login,
          S3_MODULES: tools.s3Modules,
          S3_PORT: String(port),
          S3_DIR: dir,
          S3_BUCKET,
          S3_TLS_KEY: key,
          S3_TLS_CERT: cert,
          PATH: process.env.PATH ?? '',
        },
      },
    };
  }
  const store = new OffsiteStore({ kind, root, dir, port, password, ...init });
  try {
    await store.start();
  } catch (error) {
    await store[Symbol.asyncDispose]();
    throw error;
  }
  return store;
}

/** A restic REST server on loopback (`rclone serve restic`): see {@link startStore}. */
export function startRestStore(options: StoreOptions = {}): Promise<OffsiteStore> {
  return startStore('rest', options);
}
