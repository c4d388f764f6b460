import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Debian suites the fetched engines come from (deb.debian.org, signed by the host's Debian archive keyring). */
export const SuiteSchema = z.enum(['trixie', 'bookworm-backports', 'bookworm', 'bullseye', 'sid', 'experimental']);
export type Suite = z.infer<typeof SuiteSchema>;

/** One engine of the matrix: where it comes from and how its programs are named. */
export const EngineSpecSchema = z.object({
  /** Short id used in reports and in `PLAYBOOK_ENGINES` ("redis-8.0"). */
  id: z.string().regex(/^(redis|valkey)-\d+\.\d+(-[a-z]+)?$/),
  /** Which product: decides the program names (`redis-*` or `valkey-*`). */
  product: z.enum(['redis', 'valkey']),
  /** The upstream version this project pins; a fetch fails when the suite offers another one. */
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  /** RDB format version this engine writes (`REDIS0012` → 12); test/integration/engines.test.ts proves it. */
  rdbVersion: z.number().int().positive(),
  /** Human name for messages ("Redis 8.0"). */
  label: z.string().min(1),
  /**
   * `host`: the host's own packages, nothing fetched. `own-loader`: fetched with its libraries and
   * run through its own dynamic loader (a newer libc than the host's). `host-libc`: fetched, runs on
   * the host's libraries.
   */
  kind: z.enum(['host', 'own-loader', 'host-libc']),
  /** Suite to download from (fetched engines only). */
  suite: SuiteSchema.optional(),
  /**
   * Suite the libraries (every package not named `<product>-*`) come from, when it is not `suite`:
   * experimental holds only the packages that differ from sid, so Redis 8.6 takes its libc from sid.
   */
  librarySuite: SuiteSchema.optional(),
  /** Debian packages holding the programs (fetched engines only). */
  packages: z.array(z.string()).default([]),
  /**
   * Persistence differences a reader meets, measured on this engine; the pages show them and their
   * snippets' checks read them from here (never from an engine id).
   */
  traits: z
    .object({
      /** `dir`: an AOF dir (`appenddirname`) of base and incr files with a manifest (Redis 7+); `file`: one `appendonly.aof` in `dir` (Redis 6). */
      aofLayout: z.enum(['dir', 'file']).default('dir'),
      /** The manifest's incr line ends with `startoffset N` (Redis 8). */
      manifestOffsets: z.boolean().default(false),
      /** AOF load messages name the incr file with its dir (`AOF appendonlydir/appendonly.aof.1.incr.aof loaded anyway`, Redis 8.6). */
      aofLogWithDir: z.boolean().default(false),
      /** INFO persistence has `rdb_saves` (Redis 7.0+, Valkey). */
      rdbSaves: z.boolean().default(true),
      /** How its error replies name the server: `MISCONF Redis is configured…` (Valkey: `MISCONF Valkey is configured…`, `check the Valkey logs`). */
      errorName: z.enum(['Redis', 'Valkey']).default('Redis'),
      /** Its AOF checker reads its own `VALKEY` RDB base as commands and calls it a format error (valkey-check-aof 9.1.2, valkey-io/valkey#4739). */
      checkAofMisreadsBase: z.boolean().default(false),
      /** `CONFIG GET` takes several parameters at once (Redis 7.0+, Valkey); Redis 6.0 answers `ERR Unknown subcommand or wrong number of arguments for 'GET'`. */
      configGetMany: z.boolean().default(true),
      /** It has `aof-timestamp-enabled` (Redis 7.0+, Valkey): the AOF can carry `#TS:` lines and be cut at a second. */
      aofTimestamps: z.boolean().default(true),
      /**
       * Its log lines and replies about saving use Redis 6.0's words (measured on 6.0.16): writes get `MISCONF … but it is
       * currently not able to persist on disk. …`, a save that cannot write logs `Failed opening the RDB file dump.rdb (in
       * server root dir …)`, and the start warns `WARNING overcommit_memory is set to 0! …`. Redis 7.0+ and Valkey: `it's
       * currently unable to persist to disk`, `Failed opening the temp RDB file temp-<pid>.rdb`, `WARNING Memory overcommit must be enabled! …`.
       */
      saveWording6: z.boolean().default(false),
      /** INFO persistence shows how far a save is, `current_save_keys_processed` and `current_save_keys_total` (Redis 7.0+, Valkey; Redis 6.0 has neither). */
      saveProgress: z.boolean().default(true),
      /**
       * A `save` line (or `--save`) may hold several rules, `save 900 1 300 10` (Redis 7.0+, Valkey). Redis 6.0
       * reads one rule per line and ignores a line holding more without a word: `CONFIG GET save` then answers empty.
       */
      saveRulesPerLine: z.enum(['many', 'one']).default('many'),
      /**
       * Started with a config file or options but no `save`, it keeps the built-in rules `3600 1 300 100 60 10000`
       * (Redis 7.0+, Valkey); Redis 6.0 then has none (`CONFIG GET save` answers empty) and takes no snapshots.
       */
      builtinSaveRules: z.boolean().default(true),
      /** Its `redis-cli -e` exits 1 on an error reply (Redis 7.0+, Valkey); Redis 6.0's answers `Unrecognized option or bad number of args for: '-e'`. */
      cliErrorExit: z.boolean().default(true),
      /**
       * `repl-diskless-sync` is `yes` by default (Redis 7.0+, Valkey): `redis-cli --rdb` waits `repl-diskless-sync-delay` (5 s)
       * for the stream. Redis 6.0 defaults to `no`: it writes dump.rdb in `dir` first (`Starting BGSAVE for SYNC with target: disk`), then sends it.
       */
      disklessSyncDefault: z.boolean().default(true),
      /**
       * After a FLUSHALL on a server with save rules (it writes the empty dump.rdb at once), `rdb_changes_since_last_save`
       * counts the deleted keys plus one (Redis 6.0: 50001 after 50000 keys); Redis 7.0+ and Valkey show 0.
       */
      flushallCountsDeleted: z.boolean().default(false),
      /** INFO stats counts the server's forks in `total_forks` (Redis 7.0+, Valkey; measured: Redis 6.0.16 has no such field). */
      totalForks: z.boolean().default(true),
      /**
       * What a cluster node does when it loads keys of slots another node owns (a standalone RDB copied into its dir):
       * `deleted` (Redis 8.6, Valkey 8.1+: `I have keys for slot N, but the slot is assigned to another node. Deleting
       * keys in the slot.`), or `importing` (Redis 6.0 to 8.0: it keeps them, `… Setting it to importing state.`, and
       * `redis-cli --cluster check` then exits 1 on the open slots). Measured on each engine by the Redis Cluster page.
       */
      clusterUnownedKeys: z.enum(['deleted', 'importing']).default('deleted'),
    })
    // Each trait's default stands in for a missing one, and for missing traits as a whole.
    .prefault({}),
  /**
   * Why `npm run verify` does not yet run the pages on this engine by default (it runs when named,
   * `--engines ID`): the pages do not show all of its differences yet. Undefined: in the page matrix.
   */
  pagesPending: z.string().optional(),
});
export type EngineSpec = z.infer<typeof EngineSpecSchema>;

/**
 * Libraries the trixie builds load (measured with `ld.so --list` on redis-server 8.0.2 and
 * valkey-server 8.1.1: libsystemd pulls in libcap, zlib and zstd), taken from trixie as well.
 */
export const TRIXIE_LIBRARIES = [
  'libc6',
  'libatomic1',
  'libjemalloc2',
  'liblzf1',
  'libssl3t64',
  'libstdc++6',
  'libgcc-s1',
  'libsystemd0',
  'libcap2',
  'zlib1g',
  'libzstd1',
] as const;

/** What Debian's libsystemd0 of bullseye and bookworm pulls in (`ld.so --list`): libgcrypt, lz4, xz and zstd. */
const OLD_SYSTEMD_LIBRARIES = ['libsystemd0', 'libgcrypt20', 'libgpg-error0', 'liblz4-1', 'liblzma5', 'libzstd1'] as const;

/**
 * Libraries bookworm's redis-server 7.0.15 loads (`ld.so --list`; bookworm's libsystemd also pulls in
 * libcap), with bookworm's own libc and loader so it runs on any host.
 */
export const BOOKWORM_LIBRARIES = [
  'libc6',
  'libatomic1',
  'libjemalloc2',
  'liblzf1',
  'libssl3',
  'libstdc++6',
  'libgcc-s1',
  'libcap2',
  ...OLD_SYSTEMD_LIBRARIES,
] as const;

/**
 * Libraries bullseye's redis-server 6.0.16 loads (`ld.so --list`: Debian links it against the system
 * Lua 5.1 with lua-cjson and lua-bitop), with bullseye's own libc and loader (in `lib/x86_64-linux-gnu/`).
 */
export const BULLSEYE_LIBRARIES = [
  'libc6',
  'libatomic1',
  'libjemalloc2',
  'liblua5.1-0',
  'lua-bitop',
  'lua-cjson',
  'liblzf1',
  'libssl1.1',
  'libstdc++6',
  'libgcc-s1',
  ...OLD_SYSTEMD_LIBRARIES,
] as const;

/**
 * Libraries sid's valkey-server 9.1.2 and experimental's redis-server 8.6.3 load (`ld.so --list`;
 * sid's libsystemd needs only libc, libssl pulls in zlib and zstd), from sid.
 */
export const SID_LIBRARIES = [
  'libc6',
  'libatomic1',
  'libjemalloc2',
  'liblzf1',
  'libssl3t64',
  'libstdc++6',
  'libgcc-s1',
  'libsystemd0',
  'zlib1g',
  'libzstd1',
] as const;

/**
 * The host engine (Redis 7.0) for a machine without `redis-server` of its own (Docker only): Debian
 * bookworm's packages, fetched by `npm run engines` only on such a machine. It then stands in for the
 * host's programs (hostRedis, `redis-7.0`) and the Docker image is built from it.
 */
export const hostFallbackSpec: EngineSpec = EngineSpecSchema.parse({
  id: 'redis-7.0-bookworm',
  product: 'redis',
  version: '7.0.15',
  rdbVersion: 10,
  label: 'Redis 7.0',
  kind: 'own-loader',
  suite: 'bookworm',
  packages: ['redis-server', 'redis-tools', ...BOOKWORM_LIBRARIES],
  traits: { clusterUnownedKeys: 'importing' },
});

/**
 * Every engine, the host's first, then Redis by version, then Valkey by version. Valkey 8.0 (bookworm-backports) left the matrix when Valkey 9.1
 * came in: it writes the same RDB 11 as Valkey 8.1, loads the same files (measured: the same row and
 * column of the cross-load table) and its persistence fields are Valkey 8.1's, so it cost ~45 s of CI
 * per run without showing a reader anything the other two Valkeys do not.
 */
export const engineSpecs: readonly EngineSpec[] = z.array(EngineSpecSchema).parse([
  {
    id: 'redis-7.0',
    product: 'redis',
    version: '7.0.15',
    rdbVersion: 10,
    label: 'Redis 7.0',
    kind: 'host',
    traits: { clusterUnownedKeys: 'importing' },
  },
  {
    id: 'redis-6.0',
    product: 'redis',
    version: '6.0.16',
    rdbVersion: 9,
    label: 'Redis 6.0',
    kind: 'own-loader',
    suite: 'bullseye',
    packages: ['redis-server', 'redis-tools', ...BULLSEYE_LIBRARIES],
    traits: {
      aofLayout: 'file',
      rdbSaves: false,
      configGetMany: false,
      aofTimestamps: false,
      saveWording6: true,
      saveProgress: false,
      saveRulesPerLine: 'one',
      builtinSaveRules: false,
      cliErrorExit: false,
      disklessSyncDefault: false,
      flushallCountsDeleted: true,
      totalForks: false,
      clusterUnownedKeys: 'importing',
    },
  },
  {
    id: 'redis-8.0',
    product: 'redis',
    version: '8.0.2',
    rdbVersion: 12,
    label: 'Redis 8.0',
    kind: 'own-loader',
    suite: 'trixie',
    packages: ['redis-server', 'redis-tools', ...TRIXIE_LIBRARIES],
    traits: { manifestOffsets: true, clusterUnownedKeys: 'importing' },
  },
  {
    id: 'redis-8.6',
    product: 'redis',
    version: '8.6.3',
    rdbVersion: 13,
    label: 'Redis 8.6',
    kind: 'own-loader',
    suite: 'experimental',
    librarySuite: 'sid',
    packages: ['redis-server', 'redis-tools', ...SID_LIBRARIES],
    traits: { manifestOffsets: true, aofLogWithDir: true },
  },
  {
    id: 'valkey-8.1',
    product: 'valkey',
    version: '8.1.1',
    rdbVersion: 11,
    label: 'Valkey 8.1',
    kind: 'own-loader',
    suite: 'trixie',
    packages: ['valkey-server', 'valkey-tools', ...TRIXIE_LIBRARIES],
    traits: { errorName: 'Valkey' },
  },
  {
    id: 'valkey-9.1',
    product: 'valkey',
    version: '9.1.2',
    rdbVersion: 80,
    label: 'Valkey 9.1',
    kind: 'own-loader',
    suite: 'sid',
    packages: ['valkey-server', 'valkey-tools', ...SID_LIBRARIES],
    traits: { errorName: 'Valkey', checkAofMisreadsBase: true },
  },
]);

/**
 * Compose v2 (what readers run: `docker compose`), for a machine whose Docker has no Compose plugin:
 * Debian's docker-compose 2.x (one Go program; it needs only a libc of 2.34 or newer, bookworm's
 * 2.36 will do), installed by `npm run engines` as a Docker CLI plugin.
 */
export const composeSpec = { id: 'docker-compose', suite: 'sid', package: 'docker-compose', version: '2.40.3' } as const satisfies {
  id: string;
  suite: Suite;
  package: string;
  version: string;
};

/**
 * The offsite tools (restic, and rclone for its `serve s3`, a real S3 API over a directory): Debian
 * sid's builds, single Go programs that need only a libc of 2.34 or newer (bookworm's 2.36 will do).
 * Bookworm's own restic is 0.14 and its rclone 1.60 has no `serve s3`. `npm run engines` unpacks
 * each into `<cache>/<id>/root`; {@link offsiteToolPath} finds the program.
 */
export const offsiteToolSpecs = [
  { id: 'restic', suite: 'sid', package: 'restic', version: '0.19.1', program: 'usr/bin/restic' },
  { id: 'rclone', suite: 'sid', package: 'rclone', version: '1.75.2', program: 'usr/bin/rclone' },
] as const satisfies readonly { id: string; suite: Suite; package: string; version: string; program: string }[];
export type OffsiteToolSpec = (typeof offsiteToolSpecs)[number];

/**
 * The S3-compatible store of the offsite drill: s3rver from the npm registry (Debian's rclone is built
 * without `serve s3`), installed by `npm run engines` into `<cache>/s3rver` and run by
 * scripts/harness/s3-store-server.cjs over TLS.
 */
export const s3StoreSpec = { id: 's3rver', package: 's3rver', version: '3.7.1' } as const;

/** The dir whose `node_modules` holds s3rver, or undefined when it is not installed. */
export function s3StoreModules(cache = engineCacheDir()): string | undefined {
  const dir = join(cache, s3StoreSpec.id, 'node_modules');
  return existsSync(join(dir, s3StoreSpec.package, 'package.json')) ? dir : undefined;
}

/** The project's root (where package.json is). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where fetched engines live: `PLAYBOOK_ENGINE_CACHE`, else `.cache/engines/` in the project (gitignored). */
export function engineCacheDir(): string {
  if (process.env.PLAYBOOK_ENGINE_CACHE) return resolve(process.env.PLAYBOOK_ENGINE_CACHE);
  // Servers also run as a service user (`runuser -u redis`), who must reach the engines: under a
  // checkout other users cannot enter (e.g. in a 0700 `mktemp -d`), the cache goes to /var/cache.
  return traversableByOthers(projectRoot) ? join(projectRoot, '.cache', 'engines') : '/var/cache/redis-playbook/engines';
}

/** Whether every folder from `/` down to `dir` lets other users pass (the x bit for others). */
function traversableByOthers(dir: string): boolean {
  for (let current = resolve(dir); ; current = dirname(current)) {
    try {
      if ((statSync(current).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (current === dirname(current)) return true;
  }
}

/** Per-engine folders in the cache. */
export function enginePaths(id: string, cache = engineCacheDir()) {
  const base = join(cache, id);
  return {
    base,
    /** The extracted packages (`dpkg-deb -x`). */
    root: join(base, 'root'),
    /** Generated shims named `redis-server`, `redis-cli`, … (and `valkey-*` for Valkey). */
    bin: join(base, 'bin'),
    /** What was fetched, written last: its presence means the engine is complete. */
    record: join(base, 'engine.json'),
  };
}

/** The upstream version named in an engine's `--version` line (`Redis server v=8.0.2 …` → `8.0.2`). */
export function versionFromVersionLine(line: string): string | undefined {
  return /\bv=(\d+\.\d+\.\d+)/.exec(line)?.[1];
}

/** The version a checker's `--version` prints (`redis-check-rdb 7.0.15` → `7.0.15`). */
export function versionFromCheckerLine(line: string): string | undefined {
  return /\b(\d+\.\d+\.\d+)\b/.exec(line)?.[1];
}

export function engineSpecById(id: string): EngineSpec | undefined {
  return engineSpecs.find((spec) => spec.id === id);
}

/** The persistence traits of an engine of the catalog (an unknown id, e.g. an image override: Redis 7's). */
export function engineTraits(id: string | undefined): EngineSpec['traits'] {
  return (id === undefined ? undefined : engineSpecById(id)?.traits) ?? EngineSpecSchema.shape.traits.parse(undefined);
}

export function isFetched(spec: EngineSpec, cache = engineCacheDir()): boolean {
  return spec.kind === 'host' || existsSync(enginePaths(spec.id, cache).record);
}

/** Which engines of the catalog write RDB format `version` ("Redis 8.0"; "Valkey 8.0, Valkey 8.1"), or undefined. */
export function rdbWriters(version: number): string | undefined {
  const labels = engineSpecs.filter((spec) => spec.rdbVersion === version).map((spec) => spec.label);
  return labels.length > 0 ? labels.join(', ') : undefined;
}

/**
 * The program of an offsite tool (`restic`, `rclone`): the one `npm run engines` unpacked into the
 * cache, else undefined (the caller decides between the machine's own and a skip).
 */
export function offsiteToolPath(id: OffsiteToolSpec['id'], cache = engineCacheDir()): string | undefined {
  const spec = offsiteToolSpecs.find((item) => item.id === id);
  if (!spec) return undefined;
  const path = join(cache, spec.id, 'root', spec.program);
  return existsSync(path) ? path : undefined;
}
