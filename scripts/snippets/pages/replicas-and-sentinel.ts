import assert from 'node:assert/strict';
import { labelledNumber, pipeSummary } from '../outputs.ts';
import { replicaPractice as rp, replicaPracticeValues, runReplicaPractice } from '../replica-practice.ts';
import { defineSnippet, type SnippetInput, type Variant } from '../schema.ts';
import { engineTraits } from '../../engines/catalog.ts';
import { engineVariant } from '../variants.ts';
import { waitUntil } from '../shell-wait.ts';
import { composeWipeFlavor } from './replicas-and-sentinel.compose.ts';

const page = 'operations/replicas-and-sentinel';

const KEYS = 50000;
const REPLICA_BEFORE = 'keys on the replica before the crash';
const PRIMARY_AFTER = 'keys on the restarted primary';
const REPLICA_AFTER = 'keys on the replica after it resynced';

/** The wipe drill with the primary's persistence options: a crash, an automatic restart, the replica resyncs. */
function wipeDrill(persistence: string, why: string): string {
  return [
    ...rp.setup(persistence),
    ...rp.start(),
    `seq 1 ${KEYS} | sed 's/.*/SET key:& &/' | redis-cli -p "$port" --pipe | tail -n 1`,
    waitUntil(`[ "$(redis-cli -p "$rport" DBSIZE)" = ${KEYS} ]`),
    ...rp.count(REPLICA_BEFORE, '$rport'),
    `# The primary crashes and is started again at once (${why})`,
    ...rp.killPrimary(),
    ...rp.startPrimary(),
    ...rp.count(PRIMARY_AFTER, '$port'),
    ...rp.replicaSynced(),
    ...rp.count(REPLICA_AFTER, '$rport'),
    ...rp.discard(),
  ].join('\n');
}

/** A host-flavor practice block: runs the script, requires exit 0, passes the output on. */
function practiceFlavors(
  command: string,
  check: (stdout: string, record: (name: string, value: number) => void, engineId: string) => void,
  timeoutMs = 90_000,
  variants: Variant[] = [],
): SnippetInput['flavors'] {
  return {
    host: {
      command,
      variants,
      server: false,
      values: replicaPracticeValues,
      timeoutMs: timeoutMs + 10_000,
      async verify(ctx) {
        const { exitCode, stdout } = await runReplicaPractice(ctx, timeoutMs);
        assert.equal(exitCode, 0, stdout);
        check(
          stdout,
          (name, value) => {
            ctx.measure(name, value);
          },
          ctx.engine.id,
        );
      },
    },
  };
}

/** The four lines of a Sentinel drill's result: which server Sentinel names, and key:1 on each server. */
const SENTINEL_RESULT = [
  'echo "Sentinel names as primary: $(redis-cli -p "$sport" SENTINEL get-master-addr-by-name mymaster | tail -n 1) (old primary $port, replica $rport)"',
  'echo "old primary $port: role $(redis-cli -p "$port" ROLE | head -n 1), key:1 = $(redis-cli -p "$port" GET key:1)"',
  'echo "replica $rport: role $(redis-cli -p "$rport" ROLE | head -n 1), key:1 = $(redis-cli -p "$rport" GET key:1)"',
];

/** Setup of a Sentinel drill: primary, replica, Sentinel, 1000 keys, the backup, 1000 newer writes on both servers. */
const sentinelSetup = [
  ...rp.setup('--appendonly no --save ""'),
  ...rp.start(),
  ...rp.sentinel(2000),
  'seq 1 1000 | sed \'s/.*/SET key:& backed-up/\' | redis-cli -p "$port" --pipe | tail -n 1',
  '# The backup: a fresh snapshot of the primary, fetched by redis-cli',
  'redis-cli -p "$port" --rdb "$dir/backup.rdb" >/dev/null 2>&1 && echo "backup fetched: $(stat -c %s "$dir/backup.rdb") bytes"',
  '# Writes after the backup: what the rollback must undo',
  'seq 1 1000 | sed \'s/.*/SET key:& newer/\' | redis-cli -p "$port" --pipe | tail -n 1',
  waitUntil('[ "$(redis-cli -p "$rport" GET key:1000)" = newer ]'),
];

/** key:1's value on a server, from a Sentinel drill's output. */
function keyOn(stdout: string, who: 'old primary' | 'replica'): { role: string; value: string } {
  const match = new RegExp(`^${who} \\d+: role (\\w+), key:1 = (\\S+)$`, 'm').exec(stdout);
  assert.ok(match, `a line for the ${who} in:\n${stdout}`);
  return { role: match[1] as string, value: match[2] as string };
}

export const replicationSnippets = [
  defineSnippet({
    id: 'replica-wipe-drill',
    title: 'Drill: a primary without persistence restarts, its replica copies the empty dataset',
    page,
    flavors: {
      ...practiceFlavors(wipeDrill('--save "" --appendonly no', 'systemd Restart=always, a container restart policy'), (stdout, record) => {
        assert.equal(pipeSummary(stdout).replies, KEYS);
        assert.equal(labelledNumber(stdout, REPLICA_BEFORE), KEYS);
        assert.equal(labelledNumber(stdout, PRIMARY_AFTER), 0, 'the primary came back empty');
        assert.equal(labelledNumber(stdout, REPLICA_AFTER), 0, 'the replica copied the empty dataset');
        record('replicaBefore', labelledNumber(stdout, REPLICA_BEFORE));
        record('replicaAfter', labelledNumber(stdout, REPLICA_AFTER));
      }),
      docker: composeWipeFlavor('--save "" --appendonly no', false),
    },
  }),
  defineSnippet({
    id: 'replica-wipe-fix-drill',
    title: 'Drill: the same crash with the AOF on the primary',
    page,
    flavors: {
      ...practiceFlavors(wipeDrill('--save "" --appendonly yes', 'the same automatic restart'), (stdout, record) => {
        assert.equal(labelledNumber(stdout, REPLICA_BEFORE), KEYS);
        assert.equal(labelledNumber(stdout, PRIMARY_AFTER), KEYS, 'the primary loaded its AOF');
        assert.equal(labelledNumber(stdout, REPLICA_AFTER), KEYS, 'the replica kept every key');
        record('replicaAfter', labelledNumber(stdout, REPLICA_AFTER));
      }),
      docker: composeWipeFlavor('--save "" --appendonly yes', true),
    },
  }),
  defineSnippet({
    id: 'sentinel-rollback-trap-drill',
    title: 'Drill: a rollback of the primary while Sentinel watches',
    page,
    flavors: practiceFlavors(
      [
        ...sentinelSetup,
        '# The rollback as on a single server: stop, put the backup in place, start',
        ...rp.stopPrimary(),
        '# A real copy takes longer than down-after-milliseconds (here 2 s): Sentinel promotes the replica meanwhile',
        waitUntil('[ "$(redis-cli -p "$sport" SENTINEL get-master-addr-by-name mymaster | tail -n 1)" = "$rport" ]'),
        'cp "$dir/backup.rdb" "$dir/primary/dump.rdb"',
        ...rp.startPrimary(),
        '# Sentinel makes the returning server a replica of the new primary: it copies the newer data',
        waitUntil('redis-cli -p "$port" INFO replication | grep -q "master_link_status:up"'),
        ...SENTINEL_RESULT,
        ...rp.discard(),
      ].join('\n'),
      (stdout) => {
        assert.match(stdout, /^backup fetched: [1-9]\d* bytes$/m, 'the backup was fetched');
        assert.match(stdout, /Sentinel names as primary: (\d+) \(old primary \d+, replica \1\)/, 'Sentinel promoted the replica');
        assert.deepEqual(keyOn(stdout, 'old primary'), { role: 'slave', value: 'newer' }, 'the rollback was undone');
        assert.deepEqual(keyOn(stdout, 'replica'), { role: 'master', value: 'newer' });
      },
    ),
  }),
  defineSnippet({
    id: 'sentinel-rollback-fix-drill',
    title: 'Drill: a rollback that sticks while Sentinel watches',
    page,
    flavors: practiceFlavors(
      [
        ...sentinelSetup,
        '# 1. Ask Sentinel which server is the primary now',
        'redis-cli -p "$sport" SENTINEL get-master-addr-by-name mymaster',
        '# 2. No replica may be promoted: priority 0 on each replica',
        'redis-cli -p "$rport" CONFIG SET replica-priority 0',
        '# 3. Stop the primary. However long the copy takes, Sentinel finds no replica to promote',
        ...rp.stopPrimary(),
        waitUntil(`grep -q 'failover-abort-no-good-slave' "$dir/sentinel.log"`),
        'cp "$dir/backup.rdb" "$dir/primary/dump.rdb"',
        ...rp.startPrimary(),
        '# 4. Wait until the replica has synced from the rolled-back primary, then give it its priority back',
        ...rp.replicaSynced(),
        'redis-cli -p "$rport" CONFIG SET replica-priority 100',
        ...SENTINEL_RESULT,
        ...rp.discard(),
      ].join('\n'),
      (stdout) => {
        assert.match(stdout, /^backup fetched: [1-9]\d* bytes$/m, 'the backup was fetched');
        assert.match(stdout, /Sentinel names as primary: (\d+) \(old primary \1, replica \d+\)/, 'no failover');
        assert.deepEqual(keyOn(stdout, 'old primary'), { role: 'master', value: 'backed-up' }, 'the rollback stuck on the primary');
        assert.deepEqual(keyOn(stdout, 'replica'), { role: 'slave', value: 'backed-up' }, 'the replica copied the rolled-back data');
      },
    ),
  }),
  defineSnippet({
    id: 'sentinel-backup-replica-drill',
    title: 'Drill: back up a replica that Sentinel names',
    page,
    flavors: practiceFlavors(
      [
        ...rp.setup('--appendonly yes --save ""'),
        ...rp.start(),
        ...rp.sentinel(30000),
        'seq 1 1000 | sed \'s/.*/SET key:& v/\' | redis-cli -p "$port" --pipe | tail -n 1',
        ...rp.replicaSynced(),
        '# Which server is the primary, and a replica, as Sentinel reports them',
        'primary=$(redis-cli -p "$sport" SENTINEL get-master-addr-by-name mymaster | paste -sd:)',
        'replica=$(redis-cli -p "$sport" SENTINEL replicas mymaster | sed -n \'/^name$/{n;p;q}\')',
        'echo "primary: $primary, replica: $replica"',
        'echo "primary forks before: $(redis-cli -h "${primary%:*}" -p "${primary#*:}" INFO stats | grep -o \'total_forks:[0-9]*\')"',
        '# Back up the replica: it forks, its primary does not',
        'redis-playbook backup --url "redis://$replica" --to "$dir/backups"',
        'echo "primary forks after: $(redis-cli -h "${primary%:*}" -p "${primary#*:}" INFO stats | grep -o \'total_forks:[0-9]*\')"',
        'grep -A 3 \'"replication"\' "$dir"/backups/*/manifest.json',
        ...rp.discard(),
      ].join('\n'),
      (stdout, record, engineId) => {
        assert.match(stdout, /taken on a replica of 127\.0\.0\.1:\d+ \(link up\)/);
        assert.match(stdout, /"role": "replica"/);
        if (!engineTraits(engineId).totalForks) {
          // No count to compare: both lines stay empty (the note under the block says so).
          assert.match(stdout, /^primary forks before: $/m);
          assert.match(stdout, /^primary forks after: $/m);
          return;
        }
        const before = labelledNumber(stdout, 'primary forks before: total_forks');
        assert.equal(labelledNumber(stdout, 'primary forks after: total_forks'), before, 'the primary did not fork');
        record('primaryForksDuringBackup', labelledNumber(stdout, 'primary forks after: total_forks') - before);
      },
      90_000,
      [
        engineVariant(
          (traits) => !traits.totalForks,
          'INFO stats has no total_forks, so the two count lines stay empty; BGSAVE still forks only the replica it runs on.',
        ),
      ],
    ),
  }),
];
