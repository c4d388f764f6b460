#!/usr/bin/env node
/**
 * The images the Docker flavor runs: `redis-playbook/redis:<version>`, built offline from this
 * machine's own Redis (the `redis-server --version` it reports gives the tag), and from the fetched
 * Redis 8.0 (`npm run engines`) for the Docker flavor on Redis 8.0 ({@link DOCKER_ENGINE_IDS}). The root filesystem
 * holds redis-server, redis-cli, redis-check-rdb, redis-check-aof (and redis-benchmark when
 * installed), the libraries `ldd` lists for them, and Debian's busybox-static as `/bin/busybox` with
 * its applets (sh, ls, cp, mv, cat, tar, …) so throwaway `docker run --rm -v VOL:/data IMAGE sh -c …`
 * containers work too. The tarball is `docker import`ed with `CMD ["redis-server"]` and
 * `WORKDIR /data`, and no `VOLUME` (a declared volume leaves an anonymous volume behind per container).
 *
 * A build is skipped when the tag already carries the same content-hash label. Where a registry
 * answers (or the image is already here), the official image of the engine ({@link OFFICIAL_IMAGES}:
 * `redis:7.0`, `redis:8.0`) is used instead of the local build; `REDIS_PLAYBOOK_OFFICIAL_IMAGES`
 * says `auto` (that, the default), `never` (always the local build) or `always` (the official image
 * or an error). `REDIS_PLAYBOOK_IMAGE` names any other image for Redis 7.0; it is pulled when missing.
 *
 * CLI: `npm run image [-- --force] [--engines redis-7.0,redis-8.0|all]` builds (or confirms) the
 * images (default: the host engine's) and prints their tags.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { constants, accessSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { enginePaths, hostFallbackSpec, versionFromVersionLine } from '../../engines/catalog.ts';
import { hostHasRedis, ownLoader } from '../../engines/shims.ts';
import { engineById, hostFallbackEngine, hostRedis, type Engine } from '../engine.ts';
import { processAlive } from '../exit-hook.ts';
import { TEMP_PREFIX } from '../leftovers.ts';
import { fatal, waitFor } from '../wait.ts';
import { requireDocker } from './available.ts';
import { docker, dockerTry, findOnPath, runTool, runToolOk } from './exec.ts';

/** Repository of the locally built image. */
export const IMAGE_REPOSITORY = 'redis-playbook/redis';
/** Label holding the hash of the image's content (files, modes, config). */
export const CONTENT_LABEL = 'org.redis-playbook.content-hash';
/** Label holding the server version the image was built from. */
export const VERSION_LABEL = 'org.redis-playbook.redis-version';
/** Environment variable naming an image to use instead of the local build. */
export const IMAGE_ENV = 'REDIS_PLAYBOOK_IMAGE';
/** Environment variable choosing between the official images and the local builds. */
export const OFFICIAL_ENV = 'REDIS_PLAYBOOK_OFFICIAL_IMAGES';
/** The official image of each engine of the Docker flavor: what the seed's readers run. */
export const OFFICIAL_IMAGES: Readonly<Record<string, string>> = {
  'redis-7.0': 'redis:7.0',
  'redis-8.6': 'redis:8.6',
  'valkey-9.1': 'valkey/valkey:9.1',
};
/**
 * Bumped when the layout below changes, so old builds are not reused. Layout 2 behaves like the
 * official images where a procedure touches them: a `redis` user (`valkey` in the Valkey image,
 * uid and gid 999) owns `/data`, and `docker-entrypoint.sh` starts the server as that user.
 */
const LAYOUT_VERSION = 2;
/** Tag suffix of this layout: a new tag, so runs on the images of layout 1 are not disturbed. */
const LAYOUT_TAG = '-v2';
/** The uid and gid the official images run their server as. */
export const SERVER_UID = 999;
const PATH_VALUE = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Engines the Docker flavor runs on, each in its own image: the host's Redis 7.0 (the seed's), and
 * the newest releases readers pull, Redis 8.6 and Valkey 9.1 (fetched by `npm run engines`).
 */
export const DOCKER_ENGINE_IDS: readonly string[] = ['redis-7.0', 'redis-8.6', 'valkey-9.1'];

/** One thing in the root filesystem (path relative to `/`). */
type Entry =
  | { kind: 'dir'; path: string; mode: number; owner?: number }
  | { kind: 'file'; path: string; mode: number; source: string; sha256: string }
  | { kind: 'text'; path: string; mode: number; text: string }
  | { kind: 'symlink'; path: string; target: string };

/** The image to use and how it was obtained. */
export interface ImageInfo {
  /** `repository:tag` to run. */
  tag: string;
  /**
   * built: imported now; cached: an identical build existed; official: the engine's official image
   * (present, or pulled now); override: from REDIS_PLAYBOOK_IMAGE.
   */
  status: 'built' | 'cached' | 'official' | 'override';
  /** For a local build in `auto` mode: why the official image was not used (e.g. the registry did not answer). */
  officialSkipped?: string;
  /** Server version the image was built from (undefined for an override: ask the server). */
  version: string | undefined;
  /** Content hash of a local build. */
  hash: string | undefined;
  durationMs: number;
  /** The engine the image runs (for an override: the engine it stands for). */
  engine: Engine;
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** The version `redis-server --version` reports (`v=7.0.15`). */
export async function hostServerVersion(engine: Engine = hostRedis): Promise<string> {
  const { stdout } = await runToolOk(engine.server, ['--version']);
  const version = versionFromVersionLine(stdout);
  if (!version) throw new Error(`Cannot read the version from \`${engine.server} --version\`: ${stdout.trim()}`);
  return version;
}

/** The shared libraries (and the loader) `ldd` lists for a program; none for a static one. */
async function sharedLibraries(program: string): Promise<string[]> {
  const result = await runTool('ldd', [program]);
  const output = `${result.stdout}\n${result.stderr}`;
  // ldd exits 1 for a static program (busybox-static).
  if (/not a dynamic executable|statically linked/.test(output)) return [];
  if (result.exitCode !== 0) throw new Error(`ldd ${program} failed (exit ${result.exitCode}): ${output.trim()}`);
  const found: string[] = [];
  for (const line of result.stdout.split('\n')) {
    if (line.includes('not found')) throw new Error(`ldd ${program}: a library is missing: ${line.trim()}`);
    const path = /=>\s*(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(line)?.[1];
    if (path) found.push(path);
  }
  return found;
}

/**
 * The libraries of a program of a fetched root (`ld.so --list` with the root's loader and library
 * path), each as [path in the image, file in the root]: the root's own layout (`lib/x86_64-linux-gnu/…`,
 * `usr/lib/x86_64-linux-gnu/…`) and the loader at the path the program asks for (`/lib64/ld-linux-x86-64.so.2`).
 */
async function rootLibraries(root: string, program: string): Promise<[string, string][]> {
  const { loader, libraryPath } = ownLoader(root);
  const { stdout } = await runToolOk(loader, ['--library-path', libraryPath, '--list', program]);
  const base = resolve(root);
  const found: [string, string][] = [];
  for (const line of stdout.split('\n')) {
    if (line.includes('not found')) throw new Error(`${program}: a library is missing from ${root}: ${line.trim()}`);
    const match = /^\s*(\S+)\s+=>\s+(\S+)\s+\(/.exec(line);
    if (!match) continue;
    const [, name = '', file = ''] = match;
    const source = resolve(file);
    if (name.startsWith('/')) found.push([name.slice(1), source]);
    else if (source.startsWith(`${base}/`)) found.push([source.slice(base.length + 1), source]);
    else throw new Error(`${program}: ${name} resolves outside ${root}: ${file}`);
  }
  return found;
}

/**
 * Lists the root filesystem: Redis programs, their libraries, busybox and its applets, a few dirs.
 * `root`: take the programs and their libraries from this fetched root (the bookworm engine on a
 * machine without Redis of its own) instead of the host's PATH and `ldd`.
 */
async function planRootfs(engine: Engine, root?: string): Promise<Entry[]> {
  const entries = new Map<string, Entry>();
  const add = (entry: Entry) => {
    if (!entries.has(entry.path)) entries.set(entry.path, entry);
  };
  const user = engine.product;
  add({ kind: 'dir', path: 'data', mode: 0o755, owner: SERVER_UID });
  for (const [path, mode] of [
    ['tmp', 0o1777],
    ['root', 0o700],
    ['etc', 0o755],
    ['proc', 0o555],
    ['sys', 0o555],
    ['dev', 0o755],
    ['run', 0o755],
    ['bin', 0o755],
    ['sbin', 0o755],
    ['usr/bin', 0o755],
    ['usr/sbin', 0o755],
    ['usr/local/bin', 0o755],
    ['usr/local/etc/redis', 0o755],
  ] as const) {
    add({ kind: 'dir', path, mode });
  }
  add({
    kind: 'text',
    path: 'etc/passwd',
    mode: 0o644,
    text: `root:x:0:0:root:/root:/bin/sh\n${user}:x:${SERVER_UID}:${SERVER_UID}::/data:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n`,
  });
  add({ kind: 'text', path: 'etc/group', mode: 0o644, text: `root:x:0:\n${user}:x:${SERVER_UID}:\nnogroup:x:65534:\n` });
  add({ kind: 'text', path: 'usr/local/bin/docker-entrypoint.sh', mode: 0o755, text: entrypoint(engine.product) });

  // Redis programs, one copy per distinct content (Debian's redis-server is a symlink to redis-check-rdb).
  const programs = [
    { name: engine.server, required: true },
    { name: engine.cli, required: true },
    { name: engine.checkRdb, required: true },
    { name: engine.checkAof, required: true },
    { name: engine.server.replace(/-server$/, '-benchmark'), required: false },
  ];
  const copied = new Map<string, string>();
  const binaries: string[] = [];
  const rootBinaries: string[] = [];
  for (const { name: program, required } of programs) {
    const name = basename(program);
    const inRoot = root ? join(root, 'usr', 'bin', name) : undefined;
    const found = inRoot ? (accessible(inRoot) ? inRoot : undefined) : findOnPath(name);
    if (!found) {
      if (required)
        throw new Error(
          `${name} is not installed: the image is built from this machine's Redis (apt-get install redis-server redis-tools)`,
        );
      continue;
    }
    const real = await realpath(found);
    const sha256 = await sha256File(real);
    const first = copied.get(sha256);
    if (first) {
      add({ kind: 'symlink', path: `usr/local/bin/${name}`, target: first });
    } else {
      copied.set(sha256, name);
      (root ? rootBinaries : binaries).push(real);
      add({ kind: 'file', path: `usr/local/bin/${name}`, mode: 0o755, source: real, sha256 });
    }
  }

  // The Valkey image answers to the redis-* names too (as `make install` of Valkey links them).
  if (engine.product === 'valkey') {
    for (const tool of ['server', 'cli', 'check-rdb', 'check-aof', 'benchmark']) {
      if (entries.has(`usr/local/bin/valkey-${tool}`))
        add({ kind: 'symlink', path: `usr/local/bin/redis-${tool}`, target: `valkey-${tool}` });
    }
  }

  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find(accessible);
  if (!busybox) throw new Error('busybox is not installed: the image needs it for sh, ls, cp, … (apt-get install busybox-static)');
  const realBusybox = await realpath(busybox);
  add({ kind: 'file', path: 'bin/busybox', mode: 0o755, source: realBusybox, sha256: await sha256File(realBusybox) });
  binaries.push(realBusybox);

  for (const library of new Set((await Promise.all(binaries.map(sharedLibraries))).flat())) {
    const real = await realpath(library);
    add({ kind: 'file', path: library.slice(1), mode: (await stat(real)).mode & 0o7777, source: real, sha256: await sha256File(real) });
  }
  if (root) {
    for (const [path, source] of (await Promise.all(rootBinaries.map((program) => rootLibraries(root, program)))).flat()) {
      const real = await realpath(source);
      add({ kind: 'file', path, mode: (await stat(real)).mode & 0o7777, source: real, sha256: await sha256File(real) });
    }
  }

  const { stdout } = await runToolOk(realBusybox, ['--list-full']);
  for (const applet of stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)) {
    if (applet === 'bin/busybox' || applet.includes('..')) continue;
    add({ kind: 'symlink', path: applet, target: '/bin/busybox' });
  }
  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function accessible(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The engine and root an image is built from: for the host engine, the host's Redis, or on a machine
 * without one (Docker only) the fetched bookworm Redis 7.0 (`npm run engines` fetches it there); for a
 * fetched engine (Redis 8.0), its own root in the engine cache.
 */
function sourceFor(engine: Engine): { engine: Engine; root?: string; suffix: string } {
  if (engine.id !== hostRedis.id) return { engine, root: enginePaths(engine.id).root, suffix: '' };
  if (hostHasRedis()) return { engine: hostRedis, suffix: '' };
  const fallback = hostFallbackEngine();
  if (!fallback)
    throw new Error(
      "redis-server is not installed: the image is built from this machine's Redis (apt-get install redis-server redis-tools) or, without one, from Debian bookworm's (npm run engines fetches it)",
    );
  return { engine: fallback, root: enginePaths(hostFallbackSpec.id).root, suffix: '-bookworm' };
}

/**
 * The official images' `docker-entrypoint.sh`, in busybox sh: a first argument that is an option or
 * a `.conf` file gets the server put in front; the server started as root first gives what is not the
 * server user's in the working dir (`/data`) to that user, then runs as it (the official image uses
 * gosu; here busybox `su`, the same setuid and setgid, the user's groups); anything else runs as is.
 * A umask of 0022 becomes 0077, as there.
 */
function entrypoint(product: 'redis' | 'valkey'): string {
  return `#!/bin/sh
set -e
# Written by the Redis Playbook (scripts/harness/docker/image.ts), after the official image's entrypoint.
if [ "\${1#-}" != "$1" ] || [ "\${1%.conf}" != "$1" ]; then
	set -- ${product}-server "$@"
fi
if { [ "$1" = '${product}-server' ] || [ "$1" = 'redis-server' ]; } && [ "$(id -u)" = '0' ]; then
	find . \\! -user ${product} -exec chown ${product} '{}' +
	exec su -s /bin/sh -c 'exec "$0" "$@"' ${product} -- "$0" "$@"
fi
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi
exec "$@"
`;
}

/** `docker import --change` lines (without the content label). */
function imageChanges(version: string, product: 'redis' | 'valkey'): string[] {
  return [
    'ENTRYPOINT ["docker-entrypoint.sh"]',
    `CMD ["${product}-server"]`,
    'WORKDIR /data',
    `ENV PATH=${PATH_VALUE}`,
    `LABEL ${VERSION_LABEL}=${version}`,
  ];
}

function contentHash(entries: Entry[], changes: string[]): string {
  const hash = createHash('sha256').update(JSON.stringify({ layout: LAYOUT_VERSION, changes }));
  for (const entry of entries) hash.update(`\n${JSON.stringify(entry.kind === 'file' ? { ...entry, source: undefined } : entry)}`);
  return hash.digest('hex').slice(0, 32);
}

/** Writes the entries under `root`. */
async function materialize(root: string, entries: Entry[]): Promise<void> {
  for (const entry of entries) {
    const target = join(root, entry.path);
    await mkdir(entry.kind === 'dir' ? target : dirname(target), { recursive: true });
    if (entry.kind === 'dir') {
      await chmod(target, entry.mode);
      if (entry.owner !== undefined) await chown(target, entry.owner, entry.owner);
    } else if (entry.kind === 'symlink') await symlink(entry.target, target);
    else {
      if (entry.kind === 'file') await copyFile(entry.source, target);
      else await writeFile(target, entry.text);
      await chmod(target, entry.mode);
    }
  }
}

/** Label value of an image, or undefined when the image does not exist. */
async function imageLabel(tag: string, label: string): Promise<{ id: string; value: string } | undefined> {
  const result = await dockerTry(['image', 'inspect', '--format', `{{.Id}} {{index .Config.Labels "${label}"}}`, tag]);
  if (result.exitCode !== 0) return undefined;
  const [id = '', value = ''] = result.stdout.trim().split(' ');
  return { id, value: value === '<no value>' ? '' : value };
}

/**
 * A lock across processes (parallel test files and `npm run verify` may all want the image):
 * a directory created atomically, holding the owner's pid so a crashed owner's lock is taken over.
 */
async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), 'redis-playbook.image-build.lock');
  await waitFor(
    async () => {
      try {
        await mkdir(lock);
        await writeFile(join(lock, 'pid'), String(process.pid));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
          throw fatal(`Cannot create the image build lock ${lock}: ${(error as Error).message}`);
        const owner = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => '0'));
        if (owner > 0 && !processAlive(owner)) await rm(lock, { recursive: true, force: true });
        return false;
      }
    },
    { what: `the image build lock ${lock} (held by another build)`, timeoutMs: 300_000, intervalMs: 100 },
  );
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Builds `redis-playbook/redis:<version>` of an engine (default: the host's) unless an identical build exists (or `force`). */
export async function buildLocalImage({
  force = false,
  engine: given = hostRedis,
}: { force?: boolean; engine?: Engine } = {}): Promise<ImageInfo> {
  const started = Date.now();
  await requireDocker();
  const { engine, root, suffix } = sourceFor(given);
  const version = await hostServerVersion(engine);
  // Its own tag, so a Docker-only checkout sharing a daemon with a full one does not rebuild theirs.
  const tag = `${IMAGE_REPOSITORY}:${engine.product === 'valkey' ? 'valkey-' : ''}${version}${suffix}${LAYOUT_TAG}`;
  const entries = await planRootfs(engine, root);
  const changes = imageChanges(version, engine.product);
  const hash = contentHash(entries, changes);
  const cached = async () => !force && (await imageLabel(tag, CONTENT_LABEL))?.value === hash;
  if (await cached()) return { tag, status: 'cached', version, hash, durationMs: Date.now() - started, engine };
  return withBuildLock(async () => {
    // Another process may have built it while this one waited for the lock.
    if (await cached()) return { tag, status: 'cached', version, hash, durationMs: Date.now() - started, engine };
    const previous = await imageLabel(tag, CONTENT_LABEL);
    const stage = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}image-`));
    try {
      const root = join(stage, 'rootfs');
      await materialize(root, entries);
      const tarball = join(stage, 'rootfs.tar');
      // Owners as staged (root, and the server user's /data): the build runs as root, as Docker does.
      await runToolOk('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', '-C', root, '-cf', tarball, '.']);
      const changeArgs = [...changes, `LABEL ${CONTENT_LABEL}=${hash}`].flatMap((change) => ['--change', change]);
      await docker(['import', ...changeArgs, tarball, tag], { timeoutMs: 300_000 });
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
    // The replaced build is now untagged: remove it unless a container still uses it.
    if (previous?.id) await dockerTry(['image', 'rm', previous.id]);
    return { tag, status: 'built', version, hash, durationMs: Date.now() - started, engine };
  });
}

/** Pulls `tag` unless it is present. */
async function ensurePulled(tag: string): Promise<void> {
  if ((await dockerTry(['image', 'inspect', '--format', '{{.Id}}', tag])).exitCode === 0) return;
  await docker(['pull', tag], { timeoutMs: 600_000 });
}

const versions = new Map<string, Promise<string>>();

/** `redis-server --version` inside an image (from a throwaway container, once per image and process). */
export function imageServerVersion(image: string): Promise<string> {
  let version = versions.get(image);
  if (!version) {
    version = runToolOk('docker', [
      'run',
      '--rm',
      '--name',
      `${TEMP_PREFIX}${randomBytes(4).toString('hex')}-version`,
      '--network',
      'none',
      image,
      'redis-server',
      '--version',
    ]).then(({ stdout }) => versionFromVersionLine(stdout) ?? 'unknown');
    versions.set(image, version);
  }
  return version;
}

const imageEngine = new AsyncLocalStorage<Engine>();

/**
 * Runs `fn` with `engine` as the Docker flavor's engine: every {@link ensureImage} (and so every
 * container the harness starts) inside it, however deep, uses that engine's image.
 */
export function withImageEngine<T>(engine: Engine, fn: () => Promise<T>): Promise<T> {
  return imageEngine.run(engine, fn);
}

/** The engine of the Docker flavor here: the one {@link withImageEngine} set, else the host's. */
export function currentImageEngine(): Engine {
  return imageEngine.getStore() ?? hostRedis;
}

/** `auto`, `never` or `always`, from {@link OFFICIAL_ENV} (default `auto`). */
export function officialPolicy(): 'auto' | 'never' | 'always' {
  const value = (process.env[OFFICIAL_ENV] ?? '').trim() || 'auto';
  if (value === 'auto' || value === 'never' || value === 'always') return value;
  throw new Error(`${OFFICIAL_ENV} must be auto, never or always, not "${value}"`);
}

/**
 * The engine's official image when the policy allows it and it is here or can be pulled, and it runs
 * that engine's major.minor. Otherwise undefined and why (in `auto`), or an error (in `always`).
 */
async function officialImage(engine: Engine, started: number): Promise<ImageInfo | { skipped: string } | undefined> {
  const policy = officialPolicy();
  const tag = OFFICIAL_IMAGES[engine.id];
  if (policy === 'never' || tag === undefined) return undefined;
  const refuse = (why: string) => {
    if (policy === 'always') throw new Error(`${OFFICIAL_ENV}=always, but ${why}`);
    return { skipped: why };
  };
  if ((await dockerTry(['image', 'inspect', '--format', '{{.Id}}', tag])).exitCode !== 0) {
    const pull = await dockerTry(['pull', '--quiet', tag], { timeoutMs: 600_000 });
    if (pull.exitCode !== 0) {
      const reason =
        `${pull.stderr}\n${pull.stdout}`
          .split('\n')
          .map((line) => line.trim())
          .find(Boolean) ?? `exit ${pull.exitCode}`;
      return refuse(`${tag} could not be pulled: ${reason.replace(/^Error response from daemon: /, '')}`);
    }
  }
  const version = await imageServerVersion(tag);
  // The engine's line from its id (`redis-8.0`): redis:8.0 moves on to later 8.0 releases, never to 8.2.
  const line = /-(\d+\.\d+)$/.exec(engine.id)?.[1];
  if (line !== undefined && !version.startsWith(`${line}.`)) return refuse(`${tag} runs Redis ${version}, not ${line}`);
  return { tag, status: 'official', version, hash: undefined, durationMs: Date.now() - started, engine };
}

const resolved = new Map<string, Promise<ImageInfo>>();

/**
 * The image of an engine's Docker flavor (default: {@link currentImageEngine}), found once per
 * process and engine, shared by every caller: for the host engine, REDIS_PLAYBOOK_IMAGE when set
 * (pulled if missing); else the official image where it is here or a registry answers (see
 * {@link officialPolicy}); else the local build.
 */
export function ensureImage(engine: Engine = currentImageEngine()): Promise<ImageInfo> {
  let image = resolved.get(engine.id);
  if (!image) {
    image = (async (): Promise<ImageInfo> => {
      const started = Date.now();
      const override = engine.id === hostRedis.id ? process.env[IMAGE_ENV]?.trim() : undefined;
      if (override) {
        await requireDocker();
        await ensurePulled(override);
        return { tag: override, status: 'override', version: undefined, hash: undefined, durationMs: Date.now() - started, engine };
      }
      await requireDocker();
      const official = await officialImage(engine, started);
      if (official && 'tag' in official) return official;
      const local = await buildLocalImage({ engine });
      return official ? { ...local, officialSkipped: official.skipped } : local;
    })();
    resolved.set(engine.id, image);
    // A failed attempt may be retried by the next caller.
    image.catch(() => resolved.delete(engine.id));
  }
  return image;
}

if (import.meta.main) {
  let force = false;
  let engines: Engine[] = [];
  try {
    const values = parseArgs({ options: { force: { type: 'boolean', default: false }, engines: { type: 'string' } } }).values;
    force = values.force;
    const ids =
      values.engines === undefined
        ? [hostRedis.id]
        : values.engines === 'all'
          ? DOCKER_ENGINE_IDS
          : values.engines.split(',').map((id) => id.trim());
    for (const id of ids)
      if (!DOCKER_ENGINE_IDS.includes(id)) throw new Error(`no image for engine "${id}" (images: ${DOCKER_ENGINE_IDS.join(', ')}, or all)`);
    engines = ids.map((id) => (id === hostRedis.id ? hostRedis : engineById(id)));
  } catch (error) {
    process.stderr.write(`image: ${(error as Error).message}\nUsage: npm run image [-- --force] [--engines redis-7.0,redis-8.0|all]\n`);
    process.exit(2);
  }
  try {
    for (const engine of engines) {
      const info = force ? await buildLocalImage({ force, engine }) : await ensureImage(engine);
      const size = await dockerTry(['image', 'inspect', '--format', '{{.Size}}', info.tag]);
      const megabytes = (Number(size.stdout.trim()) / 1e6).toFixed(1);
      console.log(`${info.tag}: ${info.status} in ${(info.durationMs / 1000).toFixed(1)} s (${megabytes} MB)`);
      if (info.officialSkipped) console.log(`  (the official image was not used: ${info.officialSkipped})`);
    }
  } catch (error) {
    process.stderr.write(`image: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
