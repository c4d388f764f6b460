#!/usr/bin/env node
/**
 * `npm run engines`: fetches the engines the host does not have (Redis 6.0 from bullseye, Redis 8.0
 * and Valkey 8.1 from trixie, Valkey 9.1 from sid, Redis 8.6 from experimental with sid's libraries,
 * each with its suite's libc and loader; on a machine without its own
 * redis-server, Debian bookworm's Redis 7.0 with its libraries too) into the engine cache, never touching
 * the host's apt state: apt runs with its own config, lists, package cache and sources inside the
 * cache (`.cache/engines/apt/`). Each engine's packages are unpacked with `dpkg-deb -x` into
 * `<cache>/<id>/root`, its shims are written to `<cache>/<id>/bin`, and `<cache>/<id>/engine.json`
 * records the exact Debian versions and checksums fetched. A second run with a complete cache does
 * nothing. Exit 0 when every engine is ready, 1 with a one-line error otherwise.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { z } from 'zod';
import { writeFileAtomic } from '../core/atomic-write.ts';
import {
  composeSpec,
  engineCacheDir,
  offsiteToolSpecs,
  s3StoreSpec,
  enginePaths,
  engineSpecs,
  hostFallbackSpec,
  versionFromVersionLine,
  type EngineSpec,
  type Suite,
} from './catalog.ts';
import { hostHasRedis, toolCommand, writeShims } from './shims.ts';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** The Debian mirror (`PLAYBOOK_DEBIAN_MIRROR` for a local one). */
const MIRROR = process.env.PLAYBOOK_DEBIAN_MIRROR || 'http://deb.debian.org/debian';

/** One .deb as fetched. */
export const FetchedPackageSchema = z.object({
  /** Debian package name. */
  name: z.string(),
  /** Exact Debian version (epoch included). */
  version: z.string(),
  /** File name in `<cache>/debs/<suite>/`. */
  file: z.string(),
  /** Size in bytes. */
  size: z.number().int(),
  /** SHA-256 of the file, as apt verified it. */
  sha256: z.string(),
});

/** `<cache>/<id>/engine.json`: what one fetch installed. Written last, so its presence means complete. */
export const EngineRecordSchema = z.object({
  /** Engine id ("redis-8.0"). */
  id: z.string(),
  /** Upstream version the catalog pins and the binary reported. */
  version: z.string(),
  /** The server's `--version` line, as run from the cache. */
  versionLine: z.string(),
  /** The Debian suite the packages came from. */
  suite: z.string(),
  /** The cache dir it was unpacked into (a moved cache is fetched again: the shims hold absolute paths). */
  cache: z.string(),
  /** When (ISO 8601). */
  fetchedAt: z.string(),
  /** Every package unpacked into the root. */
  packages: z.array(FetchedPackageSchema),
});
export type EngineRecord = z.infer<typeof EngineRecordSchema>;

class FetchError extends Error {}

/** Suites whose Release files expire within days (a snapshot mirror serves them past that date). */
const ROLLING_SUITES: ReadonlySet<Suite> = new Set(['sid', 'experimental']);

/** The suite each package of an engine comes from: its own packages from `suite`, libraries from `librarySuite` when set. */
export function packageSuites(spec: EngineSpec): { name: string; suite: Suite }[] {
  const suite = spec.suite as Suite;
  return spec.packages.map((name) => ({ name, suite: name.startsWith(`${spec.product}-`) ? suite : (spec.librarySuite ?? suite) }));
}

const began = performance.now();
function say(message: string): void {
  process.stderr.write(`engines: [${((performance.now() - began) / 1000).toFixed(1)} s] ${message}\n`);
}

/** Reads an engine's record; undefined when missing, unreadable or for another pin or cache. */
export async function readRecord(spec: EngineSpec, cache = engineCacheDir()): Promise<EngineRecord | undefined> {
  const text = await readFile(enginePaths(spec.id, cache).record, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const parsed = EngineRecordSchema.safeParse(JSON.parse(text));
  if (!parsed.success || parsed.data.version !== spec.version || parsed.data.cache !== cache) return undefined;
  return parsed.data;
}

/** apt-get / apt-cache with the cache's private config: no host list, lock, status or package cache is read or written. */
function aptEnv(cache: string): Record<string, string> {
  return { APT_CONFIG: join(cache, 'apt', 'apt.conf'), LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' };
}

async function writeAptConfig(cache: string, suites: Suite[]): Promise<void> {
  const apt = join(cache, 'apt');
  for (const dir of ['state/lists/partial', 'cache/archives/partial', 'etc/apt.conf.d', 'etc/preferences.d', 'etc/trusted.gpg.d']) {
    await mkdir(join(apt, dir), { recursive: true });
  }
  // sid's and experimental's Release files are valid for a week only: a mirror or snapshot older than
  // that is refused as expired, so for those two the date (not the signature) is not checked.
  const sources = suites
    .map((suite) => `deb [signed-by=${KEYRING}${ROLLING_SUITES.has(suite) ? ' check-valid-until=no' : ''}] ${MIRROR} ${suite} main\n`)
    .join('');
  await writeFile(join(apt, 'etc', 'sources.list'), sources);
  const options: Record<string, string> = {
    'Dir::State': join(apt, 'state'),
    'Dir::State::status': '/dev/null',
    'Dir::Cache': join(apt, 'cache'),
    // No binary package caches (~100 MB each for trixie): the lists are read once per fetch.
    'Dir::Cache::pkgcache': '',
    'Dir::Cache::srcpkgcache': '',
    'Dir::Etc': join(apt, 'etc'),
    'Dir::Etc::sourcelist': join(apt, 'etc', 'sources.list'),
    'Dir::Etc::sourceparts': '-',
    'Dir::Etc::parts': join(apt, 'etc', 'apt.conf.d'),
    'Dir::Etc::preferences': join(apt, 'etc', 'preferences'),
    'Dir::Etc::preferencesparts': join(apt, 'etc', 'preferences.d'),
    'APT::Architecture': 'amd64',
    'APT::Architectures': 'amd64',
    'Acquire::Languages': 'none',
    'Debug::NoLocking': 'true',
  };
  // As root apt drops to the _apt user for downloads, which cannot write into the cache.
  if (process.getuid?.() === 0) options['APT::Sandbox::User'] = 'root';
  const conf = Object.entries(options)
    .map(([name, value]) => `${name} "${value}";\n`)
    .join('');
  await writeFile(join(apt, 'apt.conf'), conf);
}

async function run(
  command: string,
  args: string[],
  what: string,
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const result = await execa(command, args, { ...options, reject: false, all: true, stdin: 'ignore' });
  if (result.failed) {
    const lines = result.all
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    // apt prints `Err:1 URL` with the cause on the next line (connection refused, 404, bad signature).
    const err = lines.findIndex((line) => line.startsWith('Err:'));
    const reason =
      (err >= 0 ? `${lines[err]?.replace(/^Err:\d+ /, '')}: ${lines[err + 1] ?? ''}` : undefined) ??
      lines.filter((line) => /^(E:|W:)/.test(line)).at(-1) ??
      lines.at(-1) ??
      result.shortMessage;
    throw new FetchError(`${what} failed: ${reason}`);
  }
  return result.stdout;
}

interface PlannedDeb {
  name: string;
  file: string;
  size: number;
  sha256: string;
}

/** `apt-get download --print-uris`: the file, size and checksum apt would fetch for each package. */
async function plan(cache: string, suite: Suite, packages: string[]): Promise<PlannedDeb[]> {
  const out = await run(
    'apt-get',
    ['download', '--print-uris', ...packages.map((name) => `${name}/${suite}`)],
    `resolving ${suite} packages`,
    {
      env: aptEnv(cache),
    },
  );
  const planned: PlannedDeb[] = [];
  for (const line of out.split('\n')) {
    const match = /^'[^']+' (\S+) (\d+) SHA256:([0-9a-f]{64})$/.exec(line.trim());
    if (!match) continue;
    const [, file = '', size = '0', sha256 = ''] = match;
    planned.push({ name: file.split('_')[0] ?? file, file, size: Number(size), sha256 });
  }
  for (const name of packages) {
    if (!planned.some((deb) => deb.name === name)) throw new FetchError(`${suite} offers no package ${name}`);
  }
  return planned;
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Downloads what is not already in `<cache>/debs/<suite>/` with the right checksum. Returns bytes fetched. */
async function download(cache: string, suite: Suite, debs: PlannedDeb[]): Promise<number> {
  const dir = join(cache, 'debs', suite);
  await mkdir(dir, { recursive: true });
  const missing: PlannedDeb[] = [];
  for (const deb of debs) {
    const path = join(dir, deb.file);
    if (!existsSync(path) || (await sha256(path)) !== deb.sha256) missing.push(deb);
  }
  if (missing.length === 0) return 0;
  const bytes = missing.reduce((sum, deb) => sum + deb.size, 0);
  say(`downloading ${missing.length} packages from ${suite} (${(bytes / 1e6).toFixed(1)} MB)`);
  await run('apt-get', ['download', '-q', ...missing.map((deb) => `${deb.name}/${suite}`)], `apt-get download from ${suite}`, {
    cwd: dir,
    env: aptEnv(cache),
  });
  for (const deb of missing) {
    const path = join(dir, deb.file);
    if (!existsSync(path)) throw new FetchError(`apt-get download did not write ${deb.file}`);
  }
  return bytes;
}

/** `5:8.0.2-3+deb13u3` → `8.0.2`. */
function upstreamVersion(debianVersion: string): string {
  return /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(debianVersion)?.[1] ?? debianVersion;
}

async function install(spec: EngineSpec, cache: string, debsBySuite: Map<Suite, PlannedDeb[]>): Promise<EngineRecord> {
  const suite = spec.suite as Suite;
  const paths = enginePaths(spec.id, cache);
  const mine = packageSuites(spec).map(({ name, suite: from }) => {
    const deb = debsBySuite.get(from)?.find((item) => item.name === name);
    if (!deb) throw new FetchError(`${spec.id}: package ${name} was not fetched from ${from}`);
    return { ...deb, suite: from };
  });
  // apt names its files `<name>_<version with ":" as %3a>_<arch>.deb`.
  const packages = mine.map(({ suite: _from, ...deb }) => ({ ...deb, version: decodeURIComponent(deb.file.split('_')[1] ?? '') }));
  const server = packages.find((item) => item.name === `${spec.product}-tools`);
  if (!server || upstreamVersion(server.version) !== spec.version) {
    throw new FetchError(
      `${spec.id}: ${suite} offers ${spec.product}-tools ${server?.version ?? '(none)'}, the catalog pins ${spec.version}`,
    );
  }
  say(`unpacking ${spec.id} (${packages.length} packages)`);
  await rm(paths.base, { recursive: true, force: true });
  await mkdir(paths.root, { recursive: true });
  for (const deb of mine) await run('dpkg-deb', ['-x', join(cache, 'debs', deb.suite, deb.file), paths.root], `dpkg-deb -x ${deb.file}`);
  writeShims(spec, cache);
  const command = toolCommand(spec, 'server', cache);
  if (!command) throw new FetchError(`${spec.id}: no ${spec.product}-server in the unpacked packages`);
  const [program = '', ...rest] = command;
  const versionLine = (await run(program, [...rest, '--version'], `${spec.id}: ${spec.product}-server --version`)).trim();
  if (versionFromVersionLine(versionLine) !== spec.version) {
    throw new FetchError(`${spec.id}: the unpacked server says "${versionLine}", expected v=${spec.version}`);
  }
  const record: EngineRecord = {
    id: spec.id,
    version: spec.version,
    versionLine,
    suite,
    cache,
    fetchedAt: new Date().toISOString(),
    packages,
  };
  await writeFileAtomic(paths.record, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/**
 * Creates the cache dir one level at a time (fs.mkdir's recursive mode can spin on paths such as
 * /proc/x), so a bad PLAYBOOK_ENGINE_CACHE is one clear error.
 */
async function makeCacheDir(cache: string): Promise<void> {
  const parts = cache.split('/').filter(Boolean);
  let path = '';
  for (const part of parts) {
    path += `/${part}`;
    try {
      await mkdir(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && (await stat(path)).isDirectory()) continue;
      throw new FetchError(
        `cannot create the engine cache ${cache}: ${path}: ${code === 'EEXIST' ? 'not a directory' : (code ?? (error as Error).message)}`,
      );
    }
  }
  await writeFile(join(cache, '.write-test'), '').catch((error: unknown) => {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new FetchError(`cannot write into the engine cache ${cache}: ${code ?? message}`);
  });
  await rm(join(cache, '.write-test'), { force: true });
}

async function requireTool(name: string, hint: string): Promise<void> {
  const found = await execa('sh', ['-c', `command -v ${name}`], { reject: false });
  if (found.exitCode !== 0) throw new FetchError(`${name} not found: ${hint}`);
}

/**
 * One pinned package of one suite (Compose, restic, rclone: single Go programs), downloaded with the
 * cache's private apt config and unpacked with `dpkg-deb -x` into `root` (emptied first).
 */
async function unpackPinned(cache: string, spec: { suite: Suite; package: string; version: string }, root: string): Promise<void> {
  await writeAptConfig(cache, [spec.suite]);
  await run('apt-get', ['update', '-q', '--error-on=any'], `apt-get update from ${MIRROR}`, { env: aptEnv(cache) });
  const debs = await plan(cache, spec.suite, [spec.package]);
  const deb = debs[0] as PlannedDeb;
  const version = upstreamVersion(decodeURIComponent(deb.file.split('_')[1] ?? ''));
  if (version !== spec.version) throw new FetchError(`${spec.suite} offers ${spec.package} ${version}, the catalog pins ${spec.version}`);
  await download(cache, spec.suite, debs);
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  await run('dpkg-deb', ['-x', join(cache, 'debs', spec.suite, deb.file), root], `dpkg-deb -x ${deb.file}`);
}

/**
 * restic and rclone of {@link offsiteToolSpecs} into `<cache>/<id>/root`, unless the program there
 * already reports the pinned version. Returns the programs.
 */
export async function ensureOffsiteTools(cache: string): Promise<string[]> {
  const programs: string[] = [];
  for (const spec of offsiteToolSpecs) {
    const root = join(cache, spec.id, 'root');
    const program = join(root, spec.program);
    const reported = existsSync(program) ? (await execa(program, ['version'], { reject: false, timeout: 30_000 })).stdout : '';
    if (!reported.includes(` ${spec.version}`) && !reported.includes(` v${spec.version}`)) {
      say(`fetching ${spec.package} ${spec.version} from ${spec.suite} into ${cache}`);
      await unpackPinned(cache, spec, root);
      const now = (await run(program, ['version'], `${spec.id} version`)).split('\n')[0] ?? '';
      if (!now.includes(spec.version)) throw new FetchError(`${spec.id}: the unpacked program says "${now}", expected ${spec.version}`);
      say(`${now.trim()} ready`);
    }
    programs.push(program);
  }
  await ensureS3Store(cache);
  return programs;
}

/** s3rver ({@link s3StoreSpec}) from the npm registry into `<cache>/s3rver`, unless that version is there. */
async function ensureS3Store(cache: string): Promise<void> {
  const prefix = join(cache, s3StoreSpec.id);
  const installed = await readFile(join(prefix, 'node_modules', s3StoreSpec.package, 'package.json'), 'utf8')
    .then((text) => (JSON.parse(text) as { version?: string }).version)
    .catch(() => undefined);
  if (installed === s3StoreSpec.version) return;
  say(`installing ${s3StoreSpec.package}@${s3StoreSpec.version} from the npm registry into ${prefix}`);
  await mkdir(prefix, { recursive: true });
  await run(
    'npm',
    ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--omit=dev', `${s3StoreSpec.package}@${s3StoreSpec.version}`],
    `npm install ${s3StoreSpec.package}`,
  );
  say(`${s3StoreSpec.package} ${s3StoreSpec.version} ready`);
}

/** Where the Docker CLI looks for its Compose plugin first: `$DOCKER_CONFIG/cli-plugins`, else `~/.docker/cli-plugins`. */
export function composePluginPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'cli-plugins', 'docker-compose');
}

/** `docker compose version --short` (`2.40.3`), or undefined when Docker has no Compose plugin. */
async function composePluginVersion(): Promise<string | undefined> {
  const result = await execa('docker', ['compose', 'version', '--short'], { reject: false, timeout: 30_000 });
  return result.exitCode === 0 ? result.stdout.trim().replace(/^v/, '') : undefined;
}

/**
 * Compose v2 as a Docker CLI plugin, when Docker has none: Debian's docker-compose from
 * {@link composeSpec}'s suite, unpacked into `<cache>/docker-compose/root`, linked as
 * {@link composePluginPath}. A plugin that is already there (Docker Desktop's, the docker-compose-plugin
 * package's, ours) is left alone; so is a file at that path that is not our link. Returns the version
 * `docker compose` reports, or undefined without Docker.
 */
export async function ensureComposePlugin(cache: string): Promise<string | undefined> {
  if ((await execa('sh', ['-c', 'command -v docker'], { reject: false })).exitCode !== 0) return undefined;
  const present = await composePluginVersion();
  if (present) return present;
  const root = join(cache, composeSpec.id, 'root');
  const binary = join(root, 'usr', 'libexec', 'docker', 'cli-plugins', 'docker-compose');
  if (!existsSync(binary)) {
    say(`fetching Compose v2 (${composeSpec.package} ${composeSpec.version} from ${composeSpec.suite}) into ${cache}`);
    await unpackPinned(cache, composeSpec, root);
  }
  const link = composePluginPath();
  const existing = await lstat(link).catch(() => undefined);
  if (existing && !(existing.isSymbolicLink() && (await readlink(link)).startsWith(cache))) {
    throw new FetchError(`${link} exists but \`docker compose version\` fails: fix or remove it, then run npm run engines again`);
  }
  await mkdir(join(link, '..'), { recursive: true });
  await rm(link, { force: true });
  await symlink(binary, link);
  const installed = await composePluginVersion();
  if (!installed) throw new FetchError(`Compose v2 was linked as ${link} but \`docker compose version\` still fails`);
  say(`Compose v2 ${installed} installed as the Docker CLI plugin ${link}`);
  return installed;
}

/** Fetches every engine that is not complete in the cache. Returns the records of all fetched engines. */
export async function fetchEngines({ cache = engineCacheDir(), force = false } = {}): Promise<EngineRecord[]> {
  const started = performance.now();
  // Redis 7.0 from bookworm only on a machine without its own redis-server (Docker only).
  const fetched = [...engineSpecs.filter((spec) => spec.kind !== 'host'), ...(hostHasRedis(cache) ? [] : [hostFallbackSpec])];
  const records = new Map<string, EngineRecord>();
  if (!force) {
    for (const spec of fetched) {
      const record = await readRecord(spec, cache);
      if (record) records.set(spec.id, record);
    }
  }
  const todo = fetched.filter((spec) => !records.has(spec.id));
  if (todo.length === 0) {
    for (const spec of engineSpecs) writeShims(spec, cache);
    await ensureComposePlugin(cache);
    await ensureOffsiteTools(cache);
    say(`${fetched.map((spec) => spec.id).join(', ')} already in ${cache}: nothing to do`);
    return fetched.map((spec) => records.get(spec.id) as EngineRecord);
  }
  if (process.arch !== 'x64') throw new FetchError(`only x86_64 (amd64) is supported, this machine is ${process.arch}`);
  await requireTool('apt-get', 'the engines are fetched from Debian with apt-get (run on Debian or Ubuntu)');
  await requireTool('dpkg-deb', 'install dpkg');
  if (!existsSync(KEYRING)) throw new FetchError(`${KEYRING} is missing: install debian-archive-keyring`);

  await makeCacheDir(cache);
  const wanted = todo.flatMap(packageSuites);
  const suites = [...new Set(wanted.map((item) => item.suite))];
  say(`fetching ${todo.map((spec) => spec.id).join(', ')} into ${cache}`);
  await writeAptConfig(cache, suites);
  say(`apt-get update (${suites.join(', ')}, private lists in ${join(cache, 'apt')})`);
  await run('apt-get', ['update', '-q', '--error-on=any'], `apt-get update from ${MIRROR}`, { env: aptEnv(cache) });
  let bytes = 0;
  const debsBySuite = new Map<Suite, PlannedDeb[]>();
  for (const suite of suites) {
    const names = [...new Set(wanted.filter((item) => item.suite === suite).map((item) => item.name))];
    say(`resolving ${names.length} packages in ${suite}`);
    const debs = await plan(cache, suite, names);
    bytes += await download(cache, suite, debs);
    debsBySuite.set(suite, debs);
  }
  for (const spec of todo) {
    const record = await install(spec, cache, debsBySuite);
    records.set(spec.id, record);
    say(
      `${spec.id} ready: ${record.versionLine.split(' ').slice(0, 3).join(' ')} (${record.packages.find((p) => p.name === `${spec.product}-tools`)?.version})`,
    );
  }
  for (const spec of engineSpecs.filter((item) => item.kind === 'host')) writeShims(spec, cache);
  await ensureComposePlugin(cache);
  await ensureOffsiteTools(cache);
  say(`done in ${((performance.now() - started) / 1000).toFixed(1)} s, ${(bytes / 1e6).toFixed(1)} MB downloaded`);
  return fetched.map((spec) => records.get(spec.id) as EngineRecord);
}

if (import.meta.main) {
  const force = process.argv.includes('--force');
  const unknown = process.argv.slice(2).filter((arg) => arg !== '--force');
  if (unknown.length > 0) {
    say(`unknown argument ${unknown[0]} (usage: npm run engines [-- --force])`);
    process.exit(2);
  }
  try {
    await fetchEngines({ force });
  } catch (error) {
    say(error instanceof FetchError ? error.message : error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error));
    process.exitCode = 1;
  }
}
