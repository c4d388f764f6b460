import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { TEMP_PREFIX } from '../core/temp.ts';
import { aofManifestName } from '../redis/aof.ts';
import { readAofTimeline } from '../redis/aof-timestamps.ts';
import type { ContainerRef } from './container.ts';
import { CONTAINER_DATA_DIR, dockerOk, mountOf, startAndWait, throwawayArgs, type ContainerRestoreProgress } from './container-restore.ts';
import { dockerUnusable, firstLine, runDocker } from './docker-cli.ts';
import { PlaybookError } from './errors.ts';
import { SHELL_STOP_POINT } from './stop-points.ts';
import { folderStamp } from './files.ts';
import { assertNotFuture, assertRewindable, unchangedRewind, type RewindResult } from './rewind.ts';
import type { RedisTarget } from './target.ts';

export interface ContainerRewindOptions {
  container: ContainerRef;
  /** The data dir inside the container (default /data); it must be on a volume or a bind mount. */
  dataDir?: string | undefined;
  /** Unix seconds: every write up to the end of this second is kept. */
  to: number;
  /** Redis as seen inside the container, for the readiness check after the start. */
  target: RedisTarget;
  appenddirname?: string | undefined;
  appendfilename?: string | undefined;
  now?: () => number;
  /** Seconds `docker stop` leaves Redis for its shutdown (default 60). */
  stopTimeoutSec?: number;
  readyTimeoutMs?: number;
  onProgress?: (event: ContainerRestoreProgress) => void;
}

export interface ContainerRewindResult extends RewindResult {
  container: string;
  /** Whether it ran before the rewind (it runs after it in any case). */
  wasRunning: boolean;
}

/**
 * In a throwaway container of the image, as root, on the container's volumes: copies the AOF dir
 * into the undo folder, cuts it with the image's own checker (one truncate of its last file), checks
 * the result; a failed cut or check puts the original files back, each copied beside its live name
 * and renamed over it, so that no file is ever half written in the AOF dir. Killed at any moment, the
 * dir holds the AOF as before or as rewound. Prints `size before N`, `size after N` and `done`.
 * Arguments: data dir, AOF dir name, manifest name, time, undo folder name.
 */
export const REWIND_SCRIPT = `set -u
${SHELL_STOP_POINT}
cd "$1" || exit 1
dir=$2; manifest=$3; to=$4; aside=$5
check=$(command -v redis-check-aof || command -v valkey-check-aof) || { echo "no redis-check-aof or valkey-check-aof in the image"; exit 1; }
size() { cat "$dir"/*.aof 2>/dev/null | wc -c; }
echo "size before $(size)"
mkdir "$aside" && cp -a "$dir" "$aside/" && sync || { echo "cannot copy $dir into $aside"; exit 1; }
stop_point container-rewind-copied
entries() { sed -n "s/^file \\(.*\\) seq .* type $1.*/\\1/p" "$dir/$manifest"; }
# valkey-check-aof 9.1 misreads its own VALKEY-magic RDB base (valkey-io/valkey#4739) and changes
# nothing: with one incr file, cut that file alone and check the base with the RDB checker, as on a host.
misread_base() {
  base=$(entries b); incr=$(entries i)
  grep -q "format error" /tmp/cut.log && [ "$(head -c 6 "$dir/$base")" = VALKEY ] && [ "$(echo "$incr" | wc -l)" = 1 ] || return 1
  checkrdb=$(command -v redis-check-rdb || command -v valkey-check-rdb) || return 1
  "$check" --truncate-to-timestamp "$to" "$dir/$incr" >/tmp/cut.log 2>&1 && "$check" "$dir/$incr" >>/tmp/cut.log 2>&1 && "$checkrdb" "$dir/$base" >>/tmp/cut.log 2>&1
}
if { "$check" --truncate-to-timestamp "$to" "$dir/$manifest" >/tmp/cut.log 2>&1 && "$check" "$dir/$manifest" >>/tmp/cut.log 2>&1; } || misread_base; then
  stop_point container-rewind-cut
  echo "size after $(size)"
  sync
  echo done
else
  grep -i -m1 -E 'fail|error|not valid|invalid' /tmp/cut.log || tail -n 1 /tmp/cut.log
  for kept in "$aside/$dir"/*; do
    name=\${kept##*/}
    cp -p "$kept" "$dir/.$name.undo" && mv -f "$dir/.$name.undo" "$dir/$name" || exit 1
  done
  sync && echo undone
  exit 1
fi
`;

/**
 * The rewind of a stopped host server, for Redis in a container: the AOF is read (docker cp) and the
 * refusals are decided before anything stops; then `docker stop`, the cut in a throwaway container of
 * the image (its own checker, on the container's volumes, the undo copy first), `docker start`, and
 * a wait until Redis answers with its data loaded.
 */
export async function rewindContainer(options: ContainerRewindOptions): Promise<ContainerRewindResult> {
  const { container, to } = options;
  const dataDir = options.dataDir ?? CONTAINER_DATA_DIR;
  const appenddirname = options.appenddirname ?? 'appendonlydir';
  const appendfilename = options.appendfilename ?? 'appendonly.aof';
  assertNotFuture(to, options.now?.() ?? Math.floor(Date.now() / 1000));
  if (!posix.isAbsolute(dataDir))
    throw new PlaybookError('usage', `--data-dir must be an absolute path inside the container, got "${dataDir}"`);
  if (!mountOf(container, dataDir)) {
    throw new PlaybookError(
      'state',
      `The data dir ${dataDir} of container ${container.name} is not on a volume or bind mount: rewind works on volumes`,
    );
  }
  const aofDir = posix.join(dataDir, appenddirname);
  const temp = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}rewind-`));
  try {
    // A copy of the AOF as it is, read here: the refusals are decided before the container stops.
    const copied = await runDocker(['cp', `${container.id}:${aofDir}`, join(temp, appenddirname)], { timeoutMs: 600_000 });
    const unusable = dockerUnusable(copied);
    if (unusable) throw unusable;
    if (copied.exitCode !== 0) {
      throw new PlaybookError(
        'state',
        `No AOF dir ${aofDir} in container ${container.name} (${firstLine(copied)}): a rewind needs appendonly yes with aof-timestamp-enabled yes; restore a backup instead`,
      );
    }
    const timeline = await readAofTimeline(join(temp, appenddirname), appendfilename).catch((caught: unknown) => {
      const error = caught as Error;
      throw new PlaybookError('state', `The AOF in ${aofDir} of container ${container.name} cannot be read: ${error.message}`, {
        cause: error,
      });
    });
    assertRewindable(timeline, to, aofDir);
    const wasRunning = container.state === 'running' || container.state === 'restarting' || container.state === 'paused';
    const result: ContainerRewindResult = { ...unchangedRewind(dataDir, aofDir, to, timeline), container: container.name, wasRunning };
    if (timeline.latest === undefined || timeline.latest <= to) return result;

    if (wasRunning) {
      options.onProgress?.({ phase: 'stopping', container: container.name });
      const stopSec = options.stopTimeoutSec ?? 60;
      await dockerOk(['stop', '--time', String(stopSec), container.id], `docker stop ${container.name}`, (stopSec + 60) * 1000);
    }
    options.onProgress?.({ phase: 'installing', container: container.name, dataDir });
    const aside = `pre-rewind-${folderStamp()}`;
    const name = `${TEMP_PREFIX}rewind-${randomBytes(4).toString('hex')}`;
    const cut = await runDocker(
      throwawayArgs(container, name, REWIND_SCRIPT, [dataDir, appenddirname, aofManifestName(appendfilename), String(to), aside], false),
      {
        timeoutMs: 3_600_000,
      },
    );
    const lines = cut.stdout.split('\n');
    if (cut.exitCode !== 0 || !lines.includes('done')) {
      if (wasRunning) await runDocker(['start', container.id]);
      const undone = lines.includes('undone') ? 'failed and was undone (the AOF is as before)' : 'failed';
      const why = lines.find((line) => line.trim() !== '' && !line.startsWith('size ') && line !== 'undone') ?? firstLine(cut);
      const message =
        !lines.includes('undone') && cut.exitCode > 128
          ? `Rewind of ${aofDir} in container ${container.name} was cut short (exit ${cut.exitCode}): the cut is one truncate, so the container loads the AOF as before or as rewound; the AOF from before is in ${posix.join(dataDir, aside)}`
          : `Rewind of ${aofDir} in container ${container.name} ${undone}: ${why}`;
      throw new PlaybookError('other', message, { command: 'docker run … sh -c (rewind)' });
    }
    const size = (label: string) => Number(lines.find((line) => line.startsWith(`size ${label} `))?.slice(`size ${label} `.length) ?? 0);
    result.changed = true;
    result.removedBytes = Math.max(0, size('before') - size('after'));
    result.movedAside = posix.join(dataDir, aside);

    options.onProgress?.({ phase: 'starting', container: container.name });
    try {
      await startAndWait(container, options.target, options);
    } catch (error) {
      if (error instanceof PlaybookError) {
        error.message = `The AOF of container ${container.name} is rewound, but: ${error.message}. The AOF from before is in ${result.movedAside} (the undo).`;
        throw error;
      }
      throw error;
    }
    return result;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
