import assert from 'node:assert/strict';
import type { RedisContainer } from '../../harness/docker/container.ts';
import { labelledNumber, pipeSummary } from '../outputs.ts';
import { composeReplicaPractice as cp, composeReplicaPracticeValues, runComposeReplicaPractice } from '../compose-replica-practice.ts';
import { defineSnippet, type SnippetInput, type VerifyContext } from '../schema.ts';

type DockerFlavorInput = NonNullable<SnippetInput['flavors']['docker']>;

const KEYS = 50000;
const COMPOSE_REPLICA_BEFORE = 'keys on the replica before the crash';
const COMPOSE_PRIMARY_AFTER = 'keys on the restarted primary';
const COMPOSE_REPLICA_AFTER = 'keys on the replica after it resynced';

/** A Docker flavor running a practice Compose script; `check` gets its output once it exited 0. */
function composeFlavor(command: string, check: (stdout: string, ctx: VerifyContext<RedisContainer>) => void): DockerFlavorInput {
  return {
    command,
    server: false,
    values: composeReplicaPracticeValues,
    timeoutMs: 130_000,
    async verify(ctx) {
      const { exitCode, stdout } = await runComposeReplicaPractice(ctx, 120_000);
      assert.equal(exitCode, 0, stdout);
      check(stdout, ctx);
    },
  };
}

/**
 * The Compose twin of the wipe drill: a primary with `persistence` and `restart: always`, its replica;
 * 50000 keys; the primary killed from outside, Docker restarts it, the replica resyncs from it.
 * `kept`: whether the primary's persistence brings the keys back (the fix) or not (the wipe).
 */
export function composeWipeFlavor(persistence: string, kept: boolean): DockerFlavorInput {
  return composeFlavor(
    [
      ...cp.setup(persistence),
      ...cp.write(KEYS),
      ...cp.synced(),
      ...cp.count(COMPOSE_REPLICA_BEFORE, 'replica'),
      '# The primary crashes (SIGKILL, as from the OOM killer); restart: always starts it again at once',
      ...cp.crashPrimary(),
      ...cp.count(COMPOSE_PRIMARY_AFTER, 'primary'),
      ...cp.count(COMPOSE_REPLICA_AFTER, 'replica'),
      ...cp.discard(),
    ].join('\n'),
    (stdout, ctx) => {
      assert.deepEqual(pipeSummary(stdout), { errors: 0, replies: KEYS });
      assert.equal(labelledNumber(stdout, COMPOSE_REPLICA_BEFORE), KEYS);
      const expected = kept ? KEYS : 0;
      assert.equal(
        labelledNumber(stdout, COMPOSE_PRIMARY_AFTER),
        expected,
        kept ? 'the primary loaded its AOF' : 'the primary came back empty',
      );
      assert.equal(
        labelledNumber(stdout, COMPOSE_REPLICA_AFTER),
        expected,
        kept ? 'the replica kept every key' : 'the replica copied the empty dataset',
      );
      ctx.measure('replicaBefore', labelledNumber(stdout, COMPOSE_REPLICA_BEFORE));
      ctx.measure('replicaAfter', labelledNumber(stdout, COMPOSE_REPLICA_AFTER));
    },
  );
}

/** Back up the replica of a practice Compose project with `redis-playbook backup --container`; the primary does not fork. */
function composeReplicaBackupFlavor(): DockerFlavorInput {
  const forks = (when: string) => `echo "primary forks ${when}: $(${cp.cli('primary')} INFO stats | grep -o 'total_forks:[0-9]*')"`;
  return composeFlavor(
    [
      ...cp.setup('--appendonly yes --save ""'),
      ...cp.write(1000),
      ...cp.synced(),
      forks('before'),
      '# Back up the replica through its container: it forks, its primary does not',
      'redis-playbook backup --container "$(docker compose ps -q replica)" --url "redis://127.0.0.1:$rport" --to "$PWD/backups"',
      forks('after'),
      'grep -A 3 \'"replication"\' backups/*/manifest.json',
      ...cp.discard(),
    ].join('\n'),
    (stdout, ctx) => {
      assert.match(stdout, /taken on a replica of 127\.0\.0\.1:\d+ \(link up\)/);
      assert.match(stdout, /"role": "replica"/);
      const before = labelledNumber(stdout, 'primary forks before: total_forks');
      assert.equal(labelledNumber(stdout, 'primary forks after: total_forks'), before, 'the primary did not fork');
      ctx.measure('primaryForksDuringBackup', labelledNumber(stdout, 'primary forks after: total_forks') - before);
    },
  );
}

/** Blocks of the replicas page that exist for Compose only. */
export const replicationComposeSnippets = [
  defineSnippet({
    id: 'replica-backup-compose-drill',
    title: 'Drill: back up the replica of a Compose project',
    page: 'operations/replicas-and-sentinel',
    flavors: { docker: composeReplicaBackupFlavor() },
  }),
];
