import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { execa } from 'execa';
import type { Engine } from '../engines/engine.ts';
import { TEMP_PREFIX } from '../core/temp.ts';
import { waitFor } from '../core/wait.ts';
import { flattenInfo, parseInfo } from '../redis/info.ts';
import { inspectContainer, type ContainerRef } from './container.ts';
import { ContainerRedis } from './container-redis.ts';
import { dockerUnusable, firstLine, runDocker, type DockerRun } from './docker-cli.ts';
import { PlaybookError } from './errors.ts';
import { folderStamp } from './files.ts';
import { stopPoint } from './stop-points.ts';
import { aofName, planRestore, stageRestore, type RestoreResult } from './restore.ts';
import type { RedisTarget } from './target.ts';

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
 * tar on stdin: the same steps as the host restore's, in shell. Stage under `.restore-*`, give
 * everything the data dir's owner, move the current RDB and AOF dir into `pre-restore-<time>/`, move
 * the staged files in. Any failure puts the data dir back as it was (the EXIT trap), printing
 * `stuck NAME` for a previous file it could not move back. Prints `owner U:G`, `moved NAME`,
 * `installed NAME`, then `done`.
 * Arguments: data dir, staging name, aside name, dbfilename, appenddirname, install the AOF dir (yes|no).
 */
const SWAP_SCRIPT = `set -u
dir=$1; stage=$2; aside=$3; db=$4; aofdir=$5; withaof=$6
cd "$dir" || exit 10
owner=$(stat -c %u:%g .) || exit 11
echo "owner $owner"
moved_db=; moved_aof=; put_db=; put_aof=; finished=
undo() {
  [ -n "$put_aof" ] && rm -rf "./$aofdir"
  [ -n "$put_db" ] && rm -f "./$db"
  [ -n "$moved_db" ] && { mv "$aside/$db" "./$db" || echo "stuck $db"; }
  [ -n "$moved_aof" ] && { mv "$aside/$aofdir" "./$aofdir" || echo "stuck $aofdir"; }
  [ -d "$aside" ] && rmdir "$aside"
  rm -rf "./$stage"
}
trap '[ -n "$finished" ] || undo' EXIT
mkdir "$stage" || exit 12
tar -xf - -C "$stage" || exit 13
chown -R "$owner" "$stage" || exit 14
for name in "$db" "$aofdir"; do
  if [ -e "$name" ] || [ -L "$name" ]; then
    if [ ! -d "$aside" ]; then mkdir "$aside" && chown "$owner" "$aside" || exit 15; fi
    mv "./$name" "$aside/$name" || exit 16
    if [ "$name" = "$db" ]; then moved_db=1; else moved_aof=1; fi
    echo "moved $name"
  fi
done
mv "$stage/$db" "./$db" || exit 17
put_db=1; echo "installed $db"
if [ "$withaof" = yes ]; then
  mv "$stage/$aofdir" "./$aofdir" || exit 17
  put_aof=1; echo "installed $aofdir"
fi
rm -rf "./$stage"
sync 2>/dev/null
finished=1
echo done
`;

/** Checks, before anything stops, that the throwaway can run: sh, tar, stat and chown in the image, the data dir there. */
const PREFLIGHT_SCRIPT =
  'cd "$1" && command -v tar >/dev/null && command -v stat >/dev/null && command -v chown >/dev/null && stat -c %u:%g .';

/** `docker run --rm` of the container's own image, as root, with its volumes and no network. */
export function throwawayArgs(container: ContainerRef, name: string, script: string, args: string[], stdin: boolean): string[] {
  return [
    'run',
    '--rm',
    ...(stdin ? ['-i'] : []),
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
          const removed = error instanceof PlaybookError && /There is no container/.test(error.message);
          const why = removed ? `Container ${container.name} was removed while it loaded its data: its volume keeps the installed files` : (error as Error).message;
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
 *    image (sh, tar, stat, chown; the official images have them) that can see it.
 * 3. `docker stop` (SIGTERM: Redis shuts down gracefully).
 * 4. A throwaway `docker run --rm --volumes-from NAME` moves dump.rdb and the AOF dir aside into
 *    `<dataDir>/pre-restore-<UTC time>/` and installs the staged files, owned like the data dir.
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
    await execa('tar', ['-cf', tarball, '-C', staging, ...names]).catch((error: Error) => {
      throw new PlaybookError('other', `Cannot pack the staged files with tar: ${error.message.split('\n')[0]}`, {
        cause: error,
        command: 'tar -cf',
      });
    });

    const helper = () => `${TEMP_PREFIX}restore-${randomBytes(4).toString('hex')}`;
    const preflight = await runDocker(throwawayArgs(container, helper(), PREFLIGHT_SCRIPT, [dataDir], false), { timeoutMs: 300_000 });
    const unusable = dockerUnusable(preflight);
    if (unusable) throw unusable;
    if (preflight.exitCode !== 0) {
      throw new PlaybookError(
        'docker',
        `A throwaway container of ${container.name}'s image cannot install the backup into ${dataDir} (it needs sh, tar, stat and chown): ${firstLine(preflight)}`,
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
    ];
    const swap = await runDocker(throwawayArgs(container, helper(), SWAP_SCRIPT, args, true), { inputFile: tarball, timeoutMs: 3_600_000 });
    const lines = swap.stdout.split('\n');
    const stuck = lines.filter((line) => line.startsWith('stuck ')).map((line) => line.slice('stuck '.length));
    if (stuck.length > 0) {
      // The undo failed too: the container stays stopped (it would start without its data), and the line says where each file is.
      const why = swap.stderr.split('\n').find((line) => line.trim() !== '') ?? `exit ${swap.exitCode}`;
      const places = stuck.map((name) => `the previous ${name} is in ${posix.join(dataDir, aside, name)}: move it back to ${posix.join(dataDir, name)}`);
      throw new PlaybookError(
        'undo',
        `Installing the backup into ${dataDir} of container ${container.name} failed (${why}) and so did putting the previous files back; nothing was deleted, the container is left stopped: ${places.join('; ')} (inside its volume)`,
        { command: 'docker run … sh -c (restore)' },
      );
    }
    if (swap.exitCode !== 0 || !lines.includes('done')) {
      // The script put the data dir back: bring the server back as it was before failing.
      if (wasRunning) await runDocker(['start', container.id]);
      throw new PlaybookError(
        'io',
        `Installing the backup into ${dataDir} of container ${container.name} failed and was undone: ${firstLine(swap)}`,
        {
          command: 'docker run … sh -c (restore)',
        },
      );
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
