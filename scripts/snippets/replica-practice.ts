import { join } from 'node:path';
import { freePort } from '../harness/free-port.ts';
import { killPidFiles } from './pid-files.ts';
import type { ValuesFn, VerifyContext } from './schema.ts';
import { waitUntil, waitWhile } from './shell-wait.ts';

/** Waits until `port` no longer answers (a killed or stopped server). */
const gone = (port: string) => waitWhile(`redis-cli -p "${port}" PING >/dev/null 2>&1`);
/** Waits until `port` answers PONG (not LOADING). */
const up = (port: string) => waitUntil(`redis-cli -p "${port}" PING 2>/dev/null | grep -q PONG`);
/** Waits until the replica on `port` reports its link to its primary `up` or `down`. */
const link = (port: string, state: 'up' | 'down') =>
  waitUntil(`redis-cli -p "${port}" INFO replication 2>/dev/null | grep -q 'master_link_status:${state}'`);

/**
 * Lines of shell for a practice primary (`{{scratchPort}}`), its replica (`{{scratchReplicaPort}}`)
 * and a Sentinel (`{{scratchSentinelPort}}`), each a throwaway server in its own dir under
 * `{{scratchDir}}`. Scripts built from these define `$dir`, `$port`, `$rport`, `$sport` and the
 * `primary` and `replica` option arrays first.
 */
export const replicaPractice = {
  /** Variables, dirs and the options of both servers (`primary` gets `persistence`, the replica AOF). */
  setup: (persistence: string) => [
    'dir={{scratchDir}}; port={{scratchPort}}; rport={{scratchReplicaPort}}; sport={{scratchSentinelPort}}',
    'mkdir -p "$dir/primary" "$dir/replica"',
    `primary=(--port "$port" --bind 127.0.0.1 --dir "$dir/primary" --daemonize yes --pidfile "$dir/primary.pid" --logfile "$dir/primary.log" ${persistence})`,
    'replica=(--port "$rport" --bind 127.0.0.1 --dir "$dir/replica" --daemonize yes --pidfile "$dir/replica.pid" --logfile "$dir/replica.log" --appendonly yes --replicaof 127.0.0.1 "$port")',
  ],
  /** Starts both and waits until the replica's link is up. */
  start: () => ['redis-server "${primary[@]}"', up('$port'), 'redis-server "${replica[@]}"', link('$rport', 'up')],
  /** Starts the primary again with the same options, and waits until it answers. */
  startPrimary: () => ['redis-server "${primary[@]}"', up('$port')],
  /** A crash of the primary: SIGKILL, then wait until the replica has seen its link go down. */
  killPrimary: () => ['kill -9 "$(cat "$dir/primary.pid")"', gone('$port'), link('$rport', 'down')],
  /** A clean stop of the primary (as systemctl stop), then wait until the replica has seen it go. */
  stopPrimary: () => ['redis-cli -p "$port" SHUTDOWN', gone('$port'), link('$rport', 'down')],
  /** Waits until the replica on `$rport` has a working link to its primary again (synced). */
  replicaSynced: () => [link('$rport', 'up')],
  /** A Sentinel watching the primary as `mymaster` (quorum 1, down after `downAfterMs`), waiting until it knows the replica. */
  sentinel: (downAfterMs: number) => [
    'mkdir -p "$dir/sentinel"',
    `printf '%s\\n' "port $sport" "bind 127.0.0.1" "daemonize yes" "pidfile $dir/sentinel.pid" "logfile $dir/sentinel.log" "dir $dir/sentinel" \\`,
    `  "sentinel monitor mymaster 127.0.0.1 $port 1" "sentinel down-after-milliseconds mymaster ${downAfterMs}" "sentinel failover-timeout mymaster 10000" > "$dir/sentinel/sentinel.conf"`,
    'redis-server "$dir/sentinel/sentinel.conf" --sentinel',
    waitUntil('redis-cli -p "$sport" SENTINEL replicas mymaster 2>/dev/null | grep -qx "$rport"'),
  ],
  /** Prints `<label>: <DBSIZE>` of the server on `port`. */
  count: (label: string, port: string) => [`echo "${label}: $(redis-cli -p "${port}" DBSIZE)"`],
  /** Stops every practice server for good without writing anything. */
  discard: () => ['for pid in "$dir"/*.pid; do kill -9 "$(cat "$pid")"; done'],
};

/** Free ports for the primary, the replica and the Sentinel, and a dir inside the verification's scratch dir. */
export const replicaPracticeValues: ValuesFn<
  unknown,
  Record<'scratchDir' | 'scratchPort' | 'scratchReplicaPort' | 'scratchSentinelPort', string>
> = async ({ scratch }) => ({
  scratchDir: join(scratch, 'practice'),
  scratchPort: String(await freePort()),
  scratchReplicaPort: String(await freePort()),
  scratchSentinelPort: String(await freePort()),
});

/** Runs a replica practice script and kills every server it started afterwards (their pid files are in its dir), whatever happened. */
export async function runReplicaPractice(
  ctx: VerifyContext<unknown, 'scratchDir'>,
  timeoutMs = 90_000,
): Promise<{ exitCode: number; stdout: string }> {
  const dir = ctx.values.scratchDir;
  try {
    return await ctx.run({ timeoutMs });
  } finally {
    await killPidFiles(dir);
  }
}
