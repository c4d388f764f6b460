import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { Engine } from '../engines/engine.ts';
import { TEMP_PREFIX } from '../core/temp.ts';
import { waitFor } from '../core/wait.ts';
import { aofManifestName } from '../redis/aof.ts';
import { flattenInfo, parseInfo } from '../redis/info.ts';
import { inspectContainer, type ContainerRef } from './container.ts';
import { ContainerRedis } from './container-redis.ts';
import { dockerUnusable, firstLine, runDocker, type DockerRun } from './docker-cli.ts';
import { PlaybookError } from './errors.ts';
import { folderStamp } from './files.ts';
import { SHELL_STOP_POINT, stopPoint, stopPointDockerArgs } from './stop-points.ts';
import { aofName, planRestore, stageRestore, type RestoreResult } from './restore.ts';
import type { RedisTarget } from './target.ts';
import { LONG_RUN, runProgram } from '../core/run.ts';

/** The data dir of the official Redis images (and of this project's image). */
export const CONTAINER_DATA_DIR = '/data';

export interface ContainerRestoreOptions {
  /** The backup folder (or a bare RDB file) to install. */
  backup: string;
  /** The container whose data to roll back (running or stopped). */
  container: ContainerRef;
  /** The data dir inside the container (default /data); it must be on a volume or a bind mount. */
  dataDir?: string;
  engine: Engine;
  /** Redis as seen inside the container, for the readiness check after the start (password included). */
  target: RedisTarget;
  /** As for the host restore: how the server starts, and its file names (default: the backup's). */
  appendonly?: boolean;
  dbfilename?: string;
  appenddirname?: string;
  appendfilename?: string;
  /** As for the host restore: run the checkers again instead of trusting the manifest's verdicts. */
  recheck?: boolean;
  /** Seconds `docker stop` leaves Redis for its shutdown before SIGKILL (default 60). */
  stopTimeoutSec?: number;
  /** How long to wait for Redis to load the backup after the start (default one hour). */
  readyTimeoutMs?: number;
  onProgress?: (event: ContainerRestoreProgress) => void;
}

export type ContainerRestoreProgress =
  | { phase: 'stopping'; container: string }
  | { phase: 'installing'; container: string; dataDir: string }
  | { phase: 'starting'; container: string }
  | { phase: 'loading'; container: string; elapsedMs: number };

export interface ContainerRestoreResult extends RestoreResult {
  /** The container's name. */
  container: string;
  /** The data dir inside it. */
  dataDir: string;
  /** Whether it ran before the restore (it runs after it in any case). */
  wasRunning: boolean;
}

/**
 * The swap, run by `sh` in a throwaway container on the target's volumes, with the staged files as a
 * tar on stdin: the same steps as the host restore's (restore.ts), in shell. Stage under `.restore-*`,
 * give everything the data dir's owner, then switch each name with one rename, after what is there has
 * a place in `pre-restore-<time>/`: dump.rdb (or Redis 6's AOF file) gets a second name there (a hard
 * link) and the new one is renamed over it; an AOF dir gets the new base beside its files and a new
 * manifest renamed over its own (then its old files move aside). So the container killed at any
 * moment (docker kill, the machine stopping) leaves a dir that loads the data from before or the
 * backup, never nothing. A failing step puts the data dir back as it was (the EXIT trap, which prints
 * `undone`, or `stuck NAME` for a previous file it could not move back). Prints `owner U:G`, `moved NAME`, `installed NAME`, then `done`.
 * Arguments: data dir, staging name, aside name, dbfilename, the AOF dir (or Redis 6's AOF file),
 * install the AOF (yes|no), the AOF manifest's name.
 */
export const SWAP_SCRIPT = `set -u
${SHELL_STOP_POINT}
dir=$1; stage=$2; aside=$3; db=$4; aof=$5; withaof=$6; manifest=$7
cd "$dir" || exit 10
owner=$(stat -c %u:%g .) || exit 11
echo "owner $owner"
# What each name went through, for the undo of a failed step: linked (a second name in the undo
# folder), over (the new file renamed over it), new (there was none), moved (a dir moved aside whole),
# staged (an AOF dir holding the new base and manifest beside its own), committed (its manifest switched).
db_did=; aof_did=; finished=; newbase=; newmanifest=
undo_name() {
  case $2 in
    linked) rm -f "$aside/$1" ;;
    over) mv -f "$aside/$1" "./$1" ;;
    new) rm -rf "./$1" ;;
    moved) rm -rf "./$1" && mv "$aside/$1" "./$1" ;;
    staged) rm -f "./$1/$newbase" "./$1/$newmanifest" && rm -rf "$aside/$1" ;;
  esac
}
undo() {
  ok=yes
  undo_name "$aof" "$aof_did" || { ok=; case $aof_did in over|moved) echo "stuck $aof" ;; esac; }
  undo_name "$db" "$db_did" || { ok=; case $db_did in over|moved) echo "stuck $db" ;; esac; }
  [ ! -d "$aside" ] || rmdir "$aside" || ok=
  rm -rf "./$stage"
  [ -z "$ok" ] || echo undone
}
trap '[ -n "$finished" ] || undo' EXIT
in_aside() { [ -d "$aside" ] || { mkdir "$aside" && chown "$owner" "$aside"; } || exit 15; }
# A file (dump.rdb, Redis 6's AOF): a second name in the undo folder, then the new one renamed over it.
switch_file() {
  if [ -e "./$1" ] || [ -L "./$1" ]; then
    in_aside
    ln "./$1" "$aside/$1" 2>/dev/null || cp -p "./$1" "$aside/$1" || exit 16
    eval "$2_did=linked"; echo "moved $1"
    stop_point "container-swap-$2-aside"
    mv -f "$stage/$1" "./$1" || exit 17
    eval "$2_did=over"
  else
    mv "$stage/$1" "./$1" || exit 17
    eval "$2_did=new"
  fi
  echo "installed $1"
}
# An AOF dir with a manifest: the new base gets a name in it (the next sequence number) beside a new
# manifest naming it alone, and one rename of that manifest over the old one switches the dir (the
# commit); then its old files move into the undo folder, beside a copy of the old manifest.
switch_aof_dir() {
  appendfilename=\${manifest%.manifest}
  seq=$(sed -n 's/^file .* seq \\([0-9][0-9]*\\) type .*/\\1/p' "./$aof/$manifest" | sort -n | tail -n 1)
  seq=$((\${seq:-0} + 1))
  while [ -e "./$aof/$appendfilename.$seq.base.rdb" ]; do seq=$((seq + 1)); done
  newbase="$appendfilename.$seq.base.rdb"; newmanifest="$stage.manifest"
  in_aside
  mkdir "$aside/$aof" && chown "$owner" "$aside/$aof" && cp -p "./$aof/$manifest" "$aside/$aof/$manifest" || exit 16
  aof_did=staged; echo "moved $aof"
  ln "$stage/$aof/$appendfilename.1.base.rdb" "./$aof/$newbase" || exit 16
  printf 'file %s seq %s type b\\n' "$newbase" "$seq" > "./$aof/$newmanifest" && chown "$owner" "./$aof/$newmanifest" || exit 16
  sync
  stop_point container-swap-aof-before-commit
  mv -f "./$aof/$newmanifest" "./$aof/$manifest" || exit 17
  aof_did=committed; finished=1
  echo "installed $aof"
  sed -n 's/^file \\(.*\\) seq .*/\\1/p' "$aside/$aof/$manifest" | while IFS= read -r old; do
    [ "$old" = "$newbase" ] || mv "./$aof/$old" "$aside/$aof/$old" 2>/dev/null || echo "kept $aof/$old"
  done
}
mkdir "$stage" || exit 12
tar -xf - -C "$stage" || exit 13
chown -R "$owner" "$stage" || exit 14
sync
switch_file "$db" db
stop_point container-swap-db-installed
if [ "$withaof" = yes ]; then
  if [ -f "./$aof/$manifest" ]; then
    switch_aof_dir
  elif [ -d "./$aof" ] && [ ! -L "./$aof" ]; then
    # An AOF dir without a manifest (it loads nothing): moved aside whole, then the new one moved in.
    in_aside
    mv "./$aof" "$aside/$aof" || exit 16
    aof_did=moved; echo "moved $aof"
    mv "$stage/$aof" "./$aof" || exit 17
    echo "installed $aof"
  else
    switch_file "$aof" aof
  fi
  stop_point container-swap-aof-installed
elif [ -e "./$aof" ] || [ -L "./$aof" ]; then
  # appendonly no: the AOF it would not load goes aside, so that turning AOF on later never loads it.
  in_aside
  mv "./$aof" "$aside/$aof" || exit 16
  aof_did=moved; echo "moved $aof"
fi
finished=1
rm -rf "./$stage"
sync
echo done
`;

/** Checks, before anything stops, that the throwaway can run: sh, tar, stat, chown, ln and sed in the image, the data dir there. */
const PREFLIGHT_SCRIPT =
  'cd "$1" && for tool in tar stat chown ln sed; do command -v $tool >/dev/null || { echo "no $tool in the image"; exit 1; }; done && stat -c %u:%g .';

/** `docker run --rm` of the container's own image, as root, with its volumes and no network. */
export function throwawayArgs(container: ContainerRef, name: string, script: string, args: string[], stdin: boolean): string[] {
  return [
    'run',
    '--rm',
    ...(stdin ? ['-i'] : []),
    ...stopPointDockerArgs(),
    '--name',
    name,
    '--volumes-from',
    container.id,
    '--network',
    'none',
    '--user',
    '0:0',
    '--entrypoint',
    'sh',
    container.image,
    '-c',
    script,
    'sh',
    ...args,
  ];
}

/** The volume or bind mount holding `dataDir` (the deepest one), or undefined when it is in the container's own layer. */
export function mountOf(container: ContainerRef, dataDir: string) {
  const covering = container.mounts.filter(
    (mount) => dataDir === mount.destination || dataDir.startsWith(`${mount.destination.replace(/\/$/, '')}/`),
  );
  return covering.sort((a, b) => b.destination.length - a.destination.length)[0];
}

export async function dockerOk(args: string[], what: string, timeoutMs = 120_000): Promise<DockerRun> {
  const run = await runDocker(args, { timeoutMs });
  const unusable = dockerUnusable(run);
  if (unusable) throw unusable;
  if (run.exitCode !== 0) throw new PlaybookError('docker', `${what} failed: ${firstLine(run)}`, { command: `docker ${args[0]}` });
  return run;
}

/** The last line of the container's log, for an error message. */
async function lastLogLine(container: ContainerRef): Promise<string> {
  const run = await runDocker(['logs', '--tail', '5', container.id], { timeoutMs: 30_000 });
  const lines = `${run.stdout}\n${run.stderr}`
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.at(-1) ?? '(empty log)';
}

/**
 * `docker start`, then waits until Redis answers PING and INFO says `loading:0`. Fails at once,
 * with the last log line, when the container exits instead.
 */
export async function startAndWait(
  container: ContainerRef,
  target: RedisTarget,
  options: { readyTimeoutMs?: number | undefined; onProgress?: ((event: ContainerRestoreProgress) => void) | undefined },
): Promise<void> {
  await dockerOk(['start', container.id], `docker start ${container.name}`);
  stopPoint('container-started');
  const redis = new ContainerRedis(container, target, { timeoutMs: 10_000 });
  const started = performance.now();
  let stateCheckedAt = 0;
  await waitFor(
    async () => {
      if (performance.now() - stateCheckedAt >= 1000) {
        stateCheckedAt = performance.now();
        const { state } = await inspectContainer(container.id).catch((error: unknown) => {
          // Removed meanwhile (docker rm), or Docker itself failing: neither ends by waiting.
          const removed = error instanceof PlaybookError && error.message.includes('There is no container');
          const why = removed
            ? `Container ${container.name} was removed while it loaded its data: its volume keeps the installed files`
            : (error as Error).message;
          throw Object.assign(new PlaybookError('docker', why, { cause: error }), { fatal: true });
        });
        if (state !== 'running' && state !== 'restarting') {
          throw Object.assign(
            new PlaybookError(
              'other',
              `Container ${container.name} is ${state} instead of loading its data (start it again with docker start ${container.name}); its last log line: ${await lastLogLine(container)}`,
            ),
            { fatal: true },
          );
        }
      }
      options.onProgress?.({ phase: 'loading', container: container.name, elapsedMs: performance.now() - started });
      try {
        if ((await redis.ping()) !== 'PONG') return false;
        return flattenInfo(parseInfo(await redis.info('persistence'))).loading === '0';
      } catch (error) {
        // An auth failure will not go away: report it now.
        if (error instanceof PlaybookError && error.kind === 'auth') throw Object.assign(error, { fatal: true });
        throw error;
      }
    },
    { what: `Redis in container ${container.name} to load its data`, timeoutMs: options.readyTimeoutMs ?? 3_600_000, ...redis.poll },
  );
}

/**
 * Offline rollback of Redis in a container, done by the CLI end to end: the host restore's procedure
 * with Docker doing the file work.
 *
 * 1. Checks the backup and stages the files to install in a local temp dir (planRestore and
 *    stageRestore, as on a host): a bad backup is refused before anything stops.
 * 2. Requires the data dir on a volume or bind mount, and a throwaway container of the container's own
 *    image (sh, tar, stat, chown, ln, sed; the official images have them) that can see it.
 * 3. `docker stop` (SIGTERM: Redis shuts down gracefully).
 * 4. A throwaway `docker run --rm --volumes-from NAME` keeps dump.rdb and the AOF in
 *    `<dataDir>/pre-restore-<UTC time>/` and switches each to the staged one with one rename (see
 *    SWAP_SCRIPT), owned like the data dir.
 * 5. `docker start`, and waits until Redis answers PING with `loading:0`.
 */
export async function restoreContainer(options: ContainerRestoreOptions): Promise<ContainerRestoreResult> {
  const { container, target, onProgress } = options;
  const dataDir = options.dataDir ?? CONTAINER_DATA_DIR;
  if (!posix.isAbsolute(dataDir))
    throw new PlaybookError('usage', `--data-dir must be an absolute path inside the container, got "${dataDir}"`);
  const plan = await planRestore(options);
  if (!mountOf(container, dataDir)) {
    throw new PlaybookError(
      'state',
      `The data dir ${dataDir} of container ${container.name} is not on a volume or bind mount: restore works on volumes (and data outside one is lost with the container)`,
    );
  }

  const temp = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}restore-`));
  try {
    const staging = join(temp, 'stage');
    await mkdir(staging);
    const names = await stageRestore(plan, staging);
    const tarball = join(temp, 'stage.tar');
    const packed = await runProgram('tar', ['-cf', tarball, '-C', staging, ...names], LONG_RUN);
    if (packed.exitCode !== 0) {
      const why = packed.notFound ? 'tar is not installed' : (packed.stderr.trim().split('\n')[0] ?? `exit ${packed.exitCode}`);
      throw new PlaybookError('other', `Cannot pack the staged files with tar: ${why}`, { cause: packed, command: 'tar -cf' });
    }

    const helper = () => `${TEMP_PREFIX}restore-${randomBytes(4).toString('hex')}`;
    const preflight = await runDocker(throwawayArgs(container, helper(), PREFLIGHT_SCRIPT, [dataDir], false), { timeoutMs: 300_000 });
    const unusable = dockerUnusable(preflight);
    if (unusable) throw unusable;
    if (preflight.exitCode !== 0) {
      throw new PlaybookError(
        'docker',
        `A throwaway container of ${container.name}'s image cannot install the backup into ${dataDir} (it needs sh, tar, stat, chown, ln and sed): ${firstLine(preflight)}`,
      );
    }

    const wasRunning = container.state === 'running' || container.state === 'restarting' || container.state === 'paused';
    if (wasRunning) {
      onProgress?.({ phase: 'stopping', container: container.name });
      const stopSec = options.stopTimeoutSec ?? 60;
      await dockerOk(['stop', '--time', String(stopSec), container.id], `docker stop ${container.name}`, (stopSec + 60) * 1000);
    }

    onProgress?.({ phase: 'installing', container: container.name, dataDir });
    const stamp = folderStamp();
    const aside = `pre-restore-${stamp}`;
    const args = [
      dataDir,
      `.restore-${stamp}-${randomBytes(3).toString('hex')}`,
      aside,
      plan.dbfilename,
      aofName(plan),
      plan.appendonly ? 'yes' : 'no',
      aofManifestName(plan.appendfilename),
    ];
    const swap = await runDocker(throwawayArgs(container, helper(), SWAP_SCRIPT, args, true), { inputFile: tarball, timeoutMs: 3_600_000 });
    const lines = swap.stdout.split('\n');
    const stuck = lines.filter((line) => line.startsWith('stuck ')).map((line) => line.slice('stuck '.length));
    if (stuck.length > 0) {
      // The undo failed too: the container stays stopped (it would start without its data), and the line says where each file is.
      const why = swap.stderr.split('\n').find((line) => line.trim() !== '') ?? `exit ${swap.exitCode}`;
      const places = stuck.map(
        (name) => `the previous ${name} is in ${posix.join(dataDir, aside, name)}: move it back to ${posix.join(dataDir, name)}`,
      );
      throw new PlaybookError(
        'undo',
        `Installing the backup into ${dataDir} of container ${container.name} failed (${why}) and so did putting the previous files back; nothing was deleted, the container is left stopped: ${places.join('; ')} (inside its volume)`,
        { command: 'docker run … sh -c (restore)' },
      );
    }
    if (swap.exitCode !== 0 || !lines.includes('done')) {
      // Bring the server back: on the data from before (the script put it back), or, when the script
      // was cut short, on what its renames left, which is the data from before or the backup.
      if (wasRunning) await runDocker(['start', container.id]);
      const what = `Installing the backup into ${dataDir} of container ${container.name}`;
      const kept = `what was there before is in ${posix.join(dataDir, aside)}; run the restore again`;
      const message = lines.includes('undone')
        ? `${what} failed and was undone: ${firstLine(swap)}`
        : swap.exitCode > 128
          ? `${what} was cut short (exit ${swap.exitCode}): each file is switched by one rename, so the container loads the data from before or the backup; ${kept}`
          : `${what} failed (${firstLine(swap)}) and could not be fully undone: ${kept}, the staged files in ${posix.join(dataDir, args[1] as string)}`;
      throw new PlaybookError('io', message, { command: 'docker run … sh -c (restore)' });
    }
    const movedNames = lines.filter((line) => line.startsWith('moved ')).map((line) => line.slice('moved '.length));
    const installed = lines.filter((line) => line.startsWith('installed ')).map((line) => line.slice('installed '.length));
    const movedAside = movedNames.length > 0 ? posix.join(dataDir, aside) : undefined;

    onProgress?.({ phase: 'starting', container: container.name });
    try {
      await startAndWait(container, target, options);
    } catch (error) {
      const undo = movedAside ? ` The previous files are in ${movedAside} (the undo).` : '';
      if (error instanceof PlaybookError) {
        error.message = `The backup is installed in container ${container.name}, but: ${error.message}.${undo}`;
        throw error;
      }
      throw new PlaybookError(
        'other',
        `The backup is installed in container ${container.name}, but Redis did not come back: ${(error as Error).message}.${undo}`,
        { cause: error },
      );
    }
    return {
      check: plan.check,
      movedAside,
      movedNames,
      installed,
      appendonly: plan.appendonly,
      container: container.name,
      dataDir,
      wasRunning,
    };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
