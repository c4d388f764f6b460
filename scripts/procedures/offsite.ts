import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { fileProblem, type CheckItem } from './check.ts';
import { PlaybookError } from './errors.ts';
import { digestFile, exists, folderStamp } from './files.ts';
import { MANIFEST_FILE, readAnyManifest, readManifest, type AnyManifest, type BackupManifest } from './manifest.ts';
import { assertPasswordFile, assertWritableRepository, displayRepository, probeRepository, runRestic, type ResticRepo } from './restic.ts';

/** The tag every snapshot redis-playbook pushes carries: list and forget see only these. */
export const OFFSITE_TAG = 'redis-playbook';

/**
 * The second tag of a cluster backup's snapshot: `list` tells it apart, and `forget` (grouped by host
 * and tags) applies its retention to cluster backups apart from one server's.
 */
export const CLUSTER_TAG = 'cluster';

/** One snapshot as `restic snapshots --json` prints it (the fields used here). */
export const ResticSnapshotSchema = z.object({
  /** Full snapshot ID. */
  id: z.string(),
  /** The first 8 hex digits, as restic prints it. */
  short_id: z.string(),
  /** Snapshot time: the backup's snapshot time (`--time` at push). */
  time: z.string(),
  /** The absolute path of the backup folder that was pushed. */
  paths: z.array(z.string()).min(1),
  /** The machine that pushed it. */
  hostname: z.string(),
  /** Tags (`redis-playbook`). */
  tags: z.array(z.string()).nullish(),
  /** Bytes processed when it was taken (restic 0.17+). */
  summary: z.object({ total_bytes_processed: z.number().int().nonnegative() }).partial().nullish(),
});
export type ResticSnapshot = z.infer<typeof ResticSnapshotSchema>;

/** One offsite backup, as `offsite list --json` prints it. */
export const OffsiteEntrySchema = z.object({
  /** restic's short snapshot ID: what `offsite pull` takes. */
  snapshot: z.string(),
  /** The backup folder's name (`2026-12-05T07-30-00Z`). */
  name: z.string(),
  /** The backup's snapshot time (ISO 8601, UTC). */
  time: z.string(),
  /** The machine that pushed it. */
  host: z.string(),
  /** Where the backup folder was on that machine. */
  path: z.string(),
  /** Its size in bytes, when restic recorded it. */
  bytes: z.number().int().nonnegative().optional(),
  /** `cluster` for a cluster backup (one folder with its shards, pushed as one snapshot), `server` for one server's. */
  kind: z.enum(['server', 'cluster']).optional(),
});
export type OffsiteEntry = z.infer<typeof OffsiteEntrySchema>;

/**
 * Every file of a backup folder against its manifest: plain file, size, SHA-256. The items that do
 * not match (empty when all do).
 */
export async function checksumProblems(backup: string, manifest: Pick<BackupManifest, 'files'>): Promise<CheckItem[]> {
  const problems: CheckItem[] = [];
  for (const file of manifest.files) {
    const problem = await fileProblem(backup, file);
    if (problem) {
      problems.push(problem);
      continue;
    }
    const digest = await digestFile(join(backup, file.path));
    if (digest.sha256 !== file.sha256)
      problems.push({
        what: `${file.path} sha256`,
        ok: false,
        detail: `${digest.sha256.slice(0, 12)}…, the manifest says ${file.sha256.slice(0, 12)}…`,
      });
  }
  return problems;
}

/** What a backup folder's files are, as its manifest(s) list them: found problems, files and bytes. */
interface FolderCheck {
  problems: CheckItem[];
  files: number;
  bytes: number;
}

/**
 * Every file of a backup folder, one server's or a cluster's, against its manifest (see
 * {@link checksumProblems}). A cluster backup is one unit: its own files (nodes.conf copies,
 * CLUSTER NODES), each shard's `manifest.json` against the SHA-256 the cluster manifest recorded, and
 * each shard's files against that manifest; a shard's findings are prefixed with its folder.
 */
export async function folderProblems(backup: string, read: AnyManifest): Promise<FolderCheck> {
  if (read.kind === 'server') {
    return {
      problems: await checksumProblems(backup, read.manifest),
      files: read.manifest.files.length,
      bytes: read.manifest.files.reduce((sum, file) => sum + file.size, 0),
    };
  }
  const own = read.manifest.files.map((file) => ({ ...file, role: 'rdb' as const }));
  const total: FolderCheck = {
    problems: await checksumProblems(backup, { files: own }),
    files: own.length,
    bytes: own.reduce((sum, file) => sum + file.size, 0),
  };
  for (const shard of read.manifest.shards) {
    const dir = join(backup, shard.dir);
    const digest = await digestFile(join(dir, MANIFEST_FILE)).catch(() => undefined);
    total.files += 1;
    if (digest?.sha256 !== shard.manifestSha256) {
      total.problems.push({
        what: `${shard.dir}/${MANIFEST_FILE}`,
        ok: false,
        detail: digest ? 'differs from the one the cluster manifest recorded' : 'missing',
      });
      continue;
    }
    total.bytes += digest.size;
    const manifest = await readManifest(dir);
    const inner = await folderProblems(dir, { kind: 'server', manifest });
    total.problems.push(...inner.problems.map((item) => ({ ...item, what: `${shard.dir}/${item.what}` })));
    total.files += inner.files;
    total.bytes += inner.bytes;
  }
  return total;
}

/** The first problem as the words of a one-line error. */
function problemWords(problems: CheckItem[]): string {
  const first = problems[0];
  return `${first?.what}: ${first?.detail}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`;
}

/** Probes the store (and, for a command that writes, a local repository's dir) and checks the password file before restic runs. */
async function ready(repo: ResticRepo, { writes }: { writes: boolean }): Promise<void> {
  await assertPasswordFile(repo.passwordFile);
  await probeRepository(repo.repository);
  if (writes) await assertWritableRepository(repo.repository);
}

/** `restic init`: a new encrypted repository. */
export async function initRepository(repo: ResticRepo, env: NodeJS.ProcessEnv): Promise<void> {
  await ready(repo, { writes: true });
  await runRestic(repo, ['init'], { env });
}

/** The redis-playbook snapshots of the repository, oldest first. */
export async function listOffsite(repo: ResticRepo, env: NodeJS.ProcessEnv): Promise<OffsiteEntry[]> {
  await ready(repo, { writes: false });
  const snapshots = await snapshotsOf(repo, env, []);
  return snapshots.map((snapshot) => ({
    snapshot: snapshot.short_id,
    name: basename(snapshot.paths[0] ?? ''),
    time: snapshot.time,
    host: snapshot.hostname,
    path: snapshot.paths[0] ?? '',
    ...(snapshot.summary?.total_bytes_processed !== undefined ? { bytes: snapshot.summary.total_bytes_processed } : {}),
    kind: snapshot.tags?.includes(CLUSTER_TAG) ? ('cluster' as const) : ('server' as const),
  }));
}

async function snapshotsOf(repo: ResticRepo, env: NodeJS.ProcessEnv, ids: string[]): Promise<ResticSnapshot[]> {
  const out = await runRestic(repo, ['--no-lock', 'snapshots', '--json', '--tag', OFFSITE_TAG, ...ids], { env });
  const parsed = z.array(ResticSnapshotSchema).safeParse(JSON.parse(out || '[]'));
  if (!parsed.success)
    throw new PlaybookError('other', `restic snapshots printed JSON this version does not read: ${parsed.error.issues[0]?.message}`);
  return parsed.data.sort((a, b) => a.time.localeCompare(b.time));
}

/** Outcome of {@link pushBackup}. */
export interface PushResult {
  /** restic's short snapshot ID. */
  snapshot: string;
  /** The backup folder that was pushed. */
  path: string;
  /** Its snapshot time (the manifest's `createdAt`). */
  createdAt: string;
  /** Bytes of the backup. */
  bytes: number;
  /** Bytes restic added to the repository after deduplication and compression. */
  addedBytes: number;
  /** Files checked against the manifest after a pull back from the repository. */
  verifiedFiles: number;
}

/**
 * Pushes a backup folder to the repository: its files checked against its manifest first (a bad backup
 * is never shipped), then `restic backup` with the snapshot time of the backup and the tag
 * {@link OFFSITE_TAG}, then the snapshot pulled back into a temp folder beside the backup and every
 * file checked against the manifest again (size and SHA-256 after the transfer); the temp folder is
 * removed.
 */
export async function pushBackup(repo: ResticRepo, backup: string, env: NodeJS.ProcessEnv): Promise<PushResult> {
  const read = await readAnyManifest(backup);
  const { manifest } = read;
  const local = await folderProblems(backup, read);
  if (local.problems.length > 0)
    throw new PlaybookError('backup', `${backup} does not match its manifest, not pushed: ${problemWords(local.problems)}`);
  await ready(repo, { writes: true });
  const time = manifest.createdAt.replace('T', ' ').replace(/(\.\d+)?Z$/, '');
  const tags = ['--tag', OFFSITE_TAG, ...(read.kind === 'cluster' ? ['--tag', CLUSTER_TAG] : [])];
  const out = await runRestic(repo, ['backup', '--json', ...tags, '--time', time, '--host', hostname(), backup], {
    env,
    cwd: dirname(backup),
  });
  const summary = out
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { message_type?: string; snapshot_id?: string; data_added?: number })
    .find((message) => message.message_type === 'summary');
  if (!summary?.snapshot_id) throw new PlaybookError('other', 'restic backup finished without naming its snapshot');
  const snapshot = summary.snapshot_id.slice(0, 8);
  const scratch = await mkdtemp(join(dirname(backup), '.offsite-verify-'));
  try {
    const pulled = await restoreSnapshot(repo, snapshot, backup, scratch, env);
    const { problems } = await folderProblems(pulled, read);
    if (problems.length > 0)
      throw new PlaybookError('backup', `Snapshot ${snapshot} does not give back ${basename(backup)}: ${problemWords(problems)}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return {
    snapshot,
    path: backup,
    createdAt: manifest.createdAt,
    bytes: local.bytes,
    addedBytes: summary.data_added ?? 0,
    verifiedFiles: local.files,
  };
}

/** `restic restore SNAPSHOT:PATH --target INTO`: the backup folder's files land directly in `into`. */
async function restoreSnapshot(repo: ResticRepo, snapshot: string, path: string, into: string, env: NodeJS.ProcessEnv): Promise<string> {
  await runRestic(repo, ['--no-lock', 'restore', `${snapshot}:${path}`, '--target', into], { env });
  return into;
}

/** Outcome of {@link pullBackup}. */
export interface PullResult {
  /** restic's short snapshot ID. */
  snapshot: string;
  /** The backup folder it became. */
  path: string;
  /** The backup's snapshot time. */
  createdAt: string;
  /** Files checked against the manifest. */
  verifiedFiles: number;
}

/**
 * Brings a snapshot back as a backup folder in `to`: restored into `.incomplete-pull-*` there, every
 * file checked against the manifest it carries, then renamed to the backup's own name (a suffix when
 * that exists: nothing local is replaced). A pull that does not match its manifest is moved aside as
 * `<name>.bad-<time>` and refused; `latest` is the newest snapshot.
 */
export async function pullBackup(repo: ResticRepo, id: string, to: string, env: NodeJS.ProcessEnv): Promise<PullResult> {
  await ready(repo, { writes: false });
  const all = await snapshotsOf(repo, env, []);
  const found = id === 'latest' ? all.at(-1) : all.find((snapshot) => snapshot.id.startsWith(id) || snapshot.short_id === id);
  if (!found)
    throw new PlaybookError(
      'usage',
      `No redis-playbook snapshot ${id} in ${displayRepository(repo.repository)} (see redis-playbook offsite list)`,
    );
  const source = found.paths[0] ?? '';
  const name = basename(source);
  const info = await stat(to).catch(() => undefined);
  if (!info?.isDirectory()) throw new PlaybookError('io', `The backup dir ${to} does not exist`);
  const stamp = folderStamp();
  const staging = join(to, `.incomplete-pull-${name}-${stamp}`);
  await restoreSnapshot(repo, found.short_id, source, staging, env);
  let read: AnyManifest | undefined;
  let problems: CheckItem[];
  let files = 0;
  try {
    read = await readAnyManifest(staging);
    ({ problems, files } = await folderProblems(staging, read));
  } catch (error) {
    if (!(error instanceof PlaybookError) || error.kind !== 'backup') throw error;
    problems = [{ what: 'manifest.json', ok: false, detail: error.message }];
  }
  if (!read || problems.length > 0) {
    const aside = await freeName(to, `${name}.bad-${stamp}`);
    await rename(staging, aside);
    throw new PlaybookError(
      'backup',
      `Snapshot ${found.short_id} does not match its manifest, moved aside to ${aside}: ${problemWords(problems)}`,
    );
  }
  const path = await freeName(to, name);
  await rename(staging, path);
  return { snapshot: found.short_id, path, createdAt: read.manifest.createdAt, verifiedFiles: files };
}

/** `<dir>/<name>`, or `<name>-2`, `-3`… when taken. */
async function freeName(dir: string, name: string): Promise<string> {
  for (let n = 1; ; n++) {
    const path = join(dir, n === 1 ? name : `${name}-${n}`);
    if (!(await exists(path))) return path;
  }
}

/** How many snapshots to keep per period (restic forget's `--keep-*`). */
export const RetentionSchema = z.object({
  /** Keep the newest snapshot of each of the last N hours that have one. */
  hourly: z.number().int().nonnegative().optional(),
  /** Keep the newest snapshot of each of the last N days that have one. */
  daily: z.number().int().nonnegative().optional(),
  /** Keep the newest snapshot of each of the last N weeks that have one. */
  weekly: z.number().int().nonnegative().optional(),
});
export type Retention = z.infer<typeof RetentionSchema>;

/** Outcome of {@link forgetOffsite}. */
export interface ForgetResult {
  /** Short IDs of the snapshots kept. */
  kept: string[];
  /** Short IDs of the snapshots removed (their data pruned). */
  removed: string[];
}

/**
 * Applies the retention policy to the redis-playbook snapshots of this machine
 * (`restic forget --tag redis-playbook --group-by host --keep-… --prune`): snapshots outside the policy
 * are removed and the data only they used is pruned.
 */
export async function forgetOffsite(repo: ResticRepo, retention: Retention, env: NodeJS.ProcessEnv): Promise<ForgetResult> {
  await ready(repo, { writes: true });
  const keep = (['hourly', 'daily', 'weekly'] as const).flatMap((period) =>
    retention[period] !== undefined ? [`--keep-${period}`, String(retention[period])] : [],
  );
  const out = await runRestic(
    repo,
    ['forget', '--json', '--tag', OFFSITE_TAG, '--host', hostname(), '--group-by', 'host,tags', ...keep, '--prune'],
    { env },
  );
  const line = out.split('\n').find((text) => text.trim().startsWith('['));
  const groups = z
    .array(z.object({ keep: z.array(ResticSnapshotSchema).nullish(), remove: z.array(ResticSnapshotSchema).nullish() }))
    .parse(JSON.parse(line ?? '[]'));
  return {
    kept: groups.flatMap((group) => (group.keep ?? []).map((snapshot) => snapshot.short_id)),
    removed: groups.flatMap((group) => (group.remove ?? []).map((snapshot) => snapshot.short_id)),
  };
}
