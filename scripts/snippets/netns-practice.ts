import { join } from 'node:path';
import { netnsNames, netnsUnavailableReason, removeNetns } from '../harness/netns.ts';
import { UnavailableHere } from '../harness/require-all.ts';
import type { ValuesFn, VerifyContext } from './schema.ts';
import { waitUntil } from './shell-wait.ts';

/** The practice network: host A (the primary's) and host B (the replica's), one /24 of their own. */
export const HOST_A = '10.77.0.1';
export const HOST_B = '10.77.0.2';

/** Runs a command on a practice host (`ip netns exec`). */
const on = (host: '$a' | '$b') => `ip netns exec "${host}"`;

/**
 * Lines of shell for two practice hosts: network namespaces `{{primaryNetns}}` (host A, 10.77.0.1) and
 * `{{replicaNetns}}` (host B, 10.77.0.2), joined by a veth pair (a virtual cable, `eth1` on each side),
 * each with its own loopback and ports, so both servers listen on 6379. Files go under
 * `{{scratchDir}}`. Scripts built from these define `$a`, `$b` and `$dir` first; they need root.
 */
export const netnsPractice = {
  /** The two hosts and the cable between them. */
  hosts: () => [
    'a={{primaryNetns}}; b={{replicaNetns}}; dir={{scratchDir}}',
    `# Two practice hosts: network namespaces joined by a virtual cable, A at ${HOST_A}, B at ${HOST_B}`,
    'ip netns add "$a"; ip netns add "$b"',
    'ip -n "$a" link add eth1 type veth peer name eth1 netns "$b"',
    `ip -n "$a" addr add ${HOST_A}/24 dev eth1; ip -n "$b" addr add ${HOST_B}/24 dev eth1`,
    'for ns in "$a" "$b"; do ip -n "$ns" link set lo up; ip -n "$ns" link set eth1 up; done',
    'mkdir -p "$dir/primary" "$dir/replica"',
  ],
  /** The primary on host A with `persistence`, its replica on host B (AOF on); waits until the replica's link is up. */
  servers: (persistence: string) => [
    `${on('$a')} redis-server --bind ${HOST_A} 127.0.0.1 --protected-mode no --dir "$dir/primary" --daemonize yes --pidfile "$dir/primary.pid" --logfile "$dir/primary.log" ${persistence}`,
    `${on('$b')} redis-server --bind ${HOST_B} 127.0.0.1 --protected-mode no --dir "$dir/replica" --daemonize yes --pidfile "$dir/replica.pid" --logfile "$dir/replica.log" --appendonly yes --replicaof ${HOST_A} 6379`,
    waitUntil(`${on('$b')} redis-cli INFO replication 2>/dev/null | grep -q master_link_status:up`),
  ],
  /**
   * Three Sentinels on host B (ports 26379 to 26381) watching the primary as `mymaster`, quorum 2,
   * down after `downAfterMs`; waits until each knows the two others and the replica.
   */
  sentinels: (downAfterMs: number) => [
    'for s in 1 2 3; do',
    '  mkdir -p "$dir/sentinel-$s"',
    `  printf '%s\\n' "port $((26378 + s))" "bind ${HOST_B} 127.0.0.1" "protected-mode no" "daemonize yes" "pidfile $dir/sentinel-$s.pid" "logfile $dir/sentinel-$s.log" "dir $dir/sentinel-$s" \\`,
    `    "sentinel monitor mymaster ${HOST_A} 6379 2" "sentinel down-after-milliseconds mymaster ${downAfterMs}" "sentinel failover-timeout mymaster 10000" > "$dir/sentinel-$s/sentinel.conf"`,
    `  ${on('$b')} redis-server "$dir/sentinel-$s/sentinel.conf" --sentinel`,
    'done',
    'for p in 26379 26380 26381; do',
    `  ${waitUntil(`${on('$b')} redis-cli -p "$p" SENTINEL master mymaster 2>/dev/null | grep -A 1 -x num-other-sentinels | grep -qx 2`)}`,
    `  ${waitUntil(`${on('$b')} redis-cli -p "$p" SENTINEL replicas mymaster 2>/dev/null | grep -qx ${HOST_B}`)}`,
    'done',
  ],
  /** Runs a command on host A or B. */
  on,
  /** Stops every practice process on both hosts and deletes the hosts (their cable goes with them). */
  discard: () => ['for ns in "$a" "$b"; do ip netns pids "$ns" | xargs -r kill -9; ip netns delete "$ns"; done'],
};

/** Fresh namespace names and a dir inside the verification's scratch dir. */
export const netnsPracticeValues: ValuesFn<unknown, Record<'primaryNetns' | 'replicaNetns' | 'scratchDir', string>> = ({ scratch }) => {
  const names = netnsNames(['a', 'b']);
  return { primaryNetns: names.a, replicaNetns: names.b, scratchDir: join(scratch, 'practice') };
};

/**
 * Runs a two-host practice script, then removes both namespaces and whatever still runs in them,
 * whatever happened. Skipped (failed when everything is required) where namespaces cannot be added.
 */
export async function runNetnsPractice(
  ctx: VerifyContext<unknown, 'primaryNetns' | 'replicaNetns'>,
  timeoutMs: number,
): Promise<{ exitCode: number; stdout: string }> {
  const reason = await netnsUnavailableReason();
  if (reason) throw new UnavailableHere('A two-host drill (network namespaces)', reason);
  try {
    return await ctx.run({ timeoutMs });
  } finally {
    for (const name of [ctx.values.primaryNetns, ctx.values.replicaNetns]) await removeNetns(name);
  }
}
