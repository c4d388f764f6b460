import assert from 'node:assert/strict';
import { labelledNumber, pipeSummary } from '../outputs.ts';
import { HOST_B, netnsPractice as np, netnsPracticeValues, runNetnsPractice } from '../netns-practice.ts';
import { defineSnippet, type VerifyContext } from '../schema.ts';
import { waitUntil } from '../shell-wait.ts';

const page = 'operations/replicas-and-sentinel';

const PROMOTED = 'Sentinel promoted the replica on host B';
const ATTEMPTED = 'writes the application sent during the cut';
const ACKED = 'writes the old primary acknowledged during the cut';
const REFUSED = 'writes the old primary refused during the cut';
const KEPT = 'writes of the cut on the new primary';
const KEYS = 'keys on the new primary';
const KEYS_BEFORE = 1000;

/** The fix: the primary refuses writes once no replica has acknowledged for more than 1 second. */
const MIN_REPLICAS = '--min-replicas-to-write 1 --min-replicas-max-lag 1';

/**
 * The partition drill: primary on host A, replica and three Sentinels on host B, 1000 keys; host A's
 * cable goes down while a client beside the primary keeps writing, one key a write, until Sentinel
 * has promoted the replica; then the cable comes back and Sentinel turns the old primary into a
 * replica of the new one. `fix` adds the primary's options of the fix, with the comment saying so.
 */
function partitionDrill(fix?: { comment: string; options: string }): string {
  return [
    ...np.hosts(),
    '# The primary on host A, its replica and three Sentinels on host B',
    ...(fix ? [`# ${fix.comment}`] : []),
    ...np.servers(`--appendonly yes --save ""${fix ? ` ${fix.options}` : ''}`),
    ...np.sentinels(2000),
    `seq 1 ${KEYS_BEFORE} | sed 's/.*/SET key:& before-the-cut/' | ${np.on('$a')} redis-cli --pipe | tail -n 1`,
    waitUntil(`[ "$(${np.on('$b')} redis-cli DBSIZE)" = ${KEYS_BEFORE} ]`),
    '# Cut host A off. An application on host A keeps writing to the primary it knows, one key a write',
    'ip -n "$a" link set eth1 down; cut=$(date +%s%N)',
    `${np.on('$a')} bash -c 'for n in $(seq 100000); do [ -e "$1/stop" ] && break; redis-cli SET "cut:$n" written-during-the-cut 2>&1; done' writer "$dir" > "$dir/cut-replies" &`,
    waitUntil(`[ "$(${np.on('$b')} redis-cli -p 26379 SENTINEL get-master-addr-by-name mymaster | head -n 1)" = ${HOST_B} ]`),
    `echo "${PROMOTED}: $((($(date +%s%N) - cut) / 1000000)) ms after the cut"`,
    'touch "$dir/stop"; wait',
    `echo "${ATTEMPTED}: $(grep -c . "$dir/cut-replies")"`,
    `echo "${ACKED}: $(grep -cx OK "$dir/cut-replies")"`,
    `echo "${REFUSED}: $(grep -c '^NOREPLICAS' "$dir/cut-replies")"`,
    '# Heal the cut: Sentinel makes the old primary a replica of the new one, and it resyncs',
    'ip -n "$a" link set eth1 up',
    waitUntil(`${np.on('$a')} redis-cli INFO replication | grep -q master_link_status:up`),
    `echo "old primary on host A: role $(${np.on('$a')} redis-cli ROLE | head -n 1)"`,
    `echo "${KEPT}: $(${np.on('$b')} redis-cli --scan --pattern 'cut:*' | wc -l)"`,
    `echo "${KEYS}: $(${np.on('$b')} redis-cli DBSIZE)"`,
    ...np.discard(),
  ].join('\n');
}

/** Runs the drill and checks what both outcomes share: a failover, the old primary demoted, none of the cut's writes kept. */
async function runPartition(ctx: VerifyContext<unknown, 'primaryNetns' | 'replicaNetns'>): Promise<{ acked: number; refused: number }> {
  const { exitCode, stdout } = await runNetnsPractice(ctx, 170_000);
  assert.equal(exitCode, 0, stdout);
  assert.deepEqual(pipeSummary(stdout), { errors: 0, replies: KEYS_BEFORE });
  const promotedMs = labelledNumber(stdout, PROMOTED);
  assert.match(stdout, /^old primary on host A: role slave$/m, 'Sentinel made the old primary a replica');
  assert.equal(labelledNumber(stdout, KEPT), 0, 'no write of the cut survived the resync');
  assert.equal(labelledNumber(stdout, KEYS), KEYS_BEFORE, 'the keys from before the cut are all there');
  const acked = labelledNumber(stdout, ACKED);
  const refused = labelledNumber(stdout, REFUSED);
  assert.equal(labelledNumber(stdout, ATTEMPTED), acked + refused, 'each write was acknowledged or refused with NOREPLICAS');
  ctx.measure('promotedMs', promotedMs);
  ctx.measure('acknowledgedLost', acked);
  ctx.measure('refused', refused);
  return { acked, refused };
}

export const partitionSnippets = [
  defineSnippet({
    id: 'partition-failover-trap-drill',
    title: 'Drill: the primary is cut off, Sentinel fails over, its writes are lost',
    page,
    flavors: {
      host: {
        command: partitionDrill(),
        server: false,
        values: netnsPracticeValues,
        timeoutMs: 180_000,
        async verify(ctx) {
          const { acked, refused } = await runPartition(ctx);
          assert.ok(acked > 0, 'the old primary acknowledged writes during the cut');
          assert.equal(refused, 0, 'without min-replicas-to-write it refuses nothing');
        },
      },
    },
  }),
  defineSnippet({
    id: 'partition-failover-fix-drill',
    title: 'Drill: the same cut with min-replicas-to-write on the primary',
    page,
    flavors: {
      host: {
        command: partitionDrill({
          comment: 'The fix: the primary refuses writes once no replica has acknowledged for more than 1 second',
          options: MIN_REPLICAS,
        }),
        server: false,
        values: netnsPracticeValues,
        timeoutMs: 180_000,
        async verify(ctx) {
          const { refused } = await runPartition(ctx);
          assert.ok(refused > 0, 'the cut-off primary refused writes (NOREPLICAS)');
        },
      },
    },
  }),
];
