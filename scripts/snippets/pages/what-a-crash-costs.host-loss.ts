import assert from 'node:assert/strict';
import { labelledNumber, pipeSummary } from '../outputs.ts';
import { practice, practiceValues, runPractice } from '../practice.ts';
import { netnsPractice as np, netnsPracticeValues, runNetnsPractice } from '../netns-practice.ts';
import { defineSnippet } from '../schema.ts';
import { waitUntil, waitWhile } from '../shell-wait.ts';

const page = 'persistence/what-a-crash-costs';

const KEYS = 50000;
const SINGLE_AFTER = 'keys after the disk was lost';

/** Each of the replica drill's clients increments its own counter until the replica holds this many of the first one's writes. */
const WRITES_BEFORE_LOSS = 20000;
const CLIENTS = 4;
const ACKNOWLEDGED = 'acknowledged writes';
const HELD = 'writes the replica holds';
const LOST = 'acknowledged writes lost with host A';
const UNACKED = 'writes on the replica whose reply never reached the client';

export const hostLossSnippets = [
  defineSnippet({
    id: 'host-loss-single-drill',
    title: 'Drill: a single server loses its disk',
    page,
    flavors: {
      host: {
        command: [
          ...practice.setup('--appendonly yes --appendfsync always --save ""'),
          ...practice.start(),
          '# Write 50000 keys, each fsynced to the AOF before its reply',
          ...practice.write(1, KEYS),
          '# The disk is lost: the data dir is gone, and the server dies with it',
          'pid=$(cat "$dir/redis.pid"); rm -rf "$dir"; kill -9 "$pid"',
          waitWhile('redis-cli -p "$port" PING >/dev/null 2>&1'),
          '# A new, empty disk; start the server on it',
          'mkdir -p "$dir"',
          ...practice.start(),
          ...practice.count(SINGLE_AFTER),
          ...practice.discard(),
        ].join('\n'),
        server: false,
        values: practiceValues,
        async verify(ctx) {
          const { exitCode, stdout } = await runPractice(ctx);
          assert.equal(exitCode, 0, stdout);
          assert.deepEqual(pipeSummary(stdout), { errors: 0, replies: KEYS });
          assert.equal(labelledNumber(stdout, SINGLE_AFTER), 0, 'nothing survives the disk');
          ctx.measure('acknowledged', KEYS);
          ctx.measure('lost', KEYS - labelledNumber(stdout, SINGLE_AFTER));
        },
      },
    },
  }),
  defineSnippet({
    id: 'host-loss-replica-drill',
    title: "Drill: the primary's host is lost, its replica is on another host",
    page,
    flavors: {
      host: {
        command: [
          ...np.hosts(),
          '# The primary on host A (AOF, fsync every second), its replica on host B',
          ...np.servers('--appendonly yes --save ""'),
          `# ${CLIENTS} clients on host A increment a counter each, as fast as they can: each reply is an acknowledged write`,
          `for c in $(seq ${CLIENTS}); do ${np.on('$a')} redis-cli -r -1 INCR "counter:$c" > "$dir/acked-$c" 2>/dev/null & done`,
          waitUntil(`[ "$(${np.on('$b')} redis-cli GET counter:1)" -ge ${WRITES_BEFORE_LOSS} ] 2>/dev/null`),
          '# Host A is lost with its disk, mid-write: the data dir is destroyed and the primary killed',
          'rm -rf "$dir/primary"; kill -9 "$(cat "$dir/primary.pid")"; wait',
          '# The last reply each client got, against what the replica on host B holds',
          '# Lost: acknowledged but not on the replica. A write can also reach the replica before its reply reaches the client',
          'acked=0; held=0; lost=0; unacked=0',
          `for c in $(seq ${CLIENTS}); do`,
          `  got=$(tail -n 1 "$dir/acked-$c"); has=$(${np.on('$b')} redis-cli GET "counter:$c")`,
          '  acked=$((acked + got)); held=$((held + has)); lost=$((lost + (got > has ? got - has : 0))); unacked=$((unacked + (has > got ? has - got : 0)))',
          'done',
          `echo "${ACKNOWLEDGED}: $acked"`,
          `echo "${HELD}: $held"`,
          `echo "${LOST}: $lost"`,
          `echo "${UNACKED}: $unacked"`,
          '# Promote the replica: it serves what it holds',
          `${np.on('$b')} redis-cli REPLICAOF NO ONE`,
          ...np.discard(),
        ].join('\n'),
        server: false,
        values: netnsPracticeValues,
        timeoutMs: 120_000,
        async verify(ctx) {
          const { exitCode, stdout } = await runNetnsPractice(ctx, 110_000);
          assert.equal(exitCode, 0, stdout);
          assert.match(stdout, /^OK$/m, 'the replica was promoted');
          const acknowledged = labelledNumber(stdout, ACKNOWLEDGED);
          const held = labelledNumber(stdout, HELD);
          assert.ok(acknowledged >= WRITES_BEFORE_LOSS * CLIENTS * 0.5, `the clients wrote (${acknowledged} acknowledged)`);
          const lost = labelledNumber(stdout, LOST);
          const unacked = labelledNumber(stdout, UNACKED);
          assert.equal(held, acknowledged - lost + unacked, 'each write is acknowledged and held, lost, or held without its reply');
          ctx.measure('acknowledged', acknowledged);
          ctx.measure('held', held);
          ctx.measure('lost', lost);
          ctx.measure('unacknowledgedHeld', unacked);
        },
      },
    },
  }),
];
