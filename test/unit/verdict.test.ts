import { existsSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VerdictSchema } from '../../scripts/procedures/inspect-report.ts';
import { assessCrashCost, assessMemory, snapshotWorstCase, type VerdictInput } from '../../scripts/procedures/verdict.ts';

/** A healthy server: RDB only with the Redis 7.0 default rules, 42 writes in the last 120 s. */
function input(overrides: Partial<VerdictInput> = {}): VerdictInput {
  return {
    appendonly: false,
    appendfsync: 'everysec',
    save: [
      { seconds: 3600, changes: 1 },
      { seconds: 300, changes: 100 },
      { seconds: 60, changes: 10000 },
    ],
    lastSaveTime: 1_732_570_000,
    lastSaveAgeSeconds: 120,
    changesSinceLastSave: 42,
    keys: 1000,
    lastBgsave: { status: 'ok', inProgress: false, durationSeconds: 0 },
    aof: { lastRewriteStatus: 'ok', rewriteInProgress: false, rewriteScheduled: false, lastWriteStatus: 'ok', delayedFsync: 0 },
    ...overrides,
  };
}

function verdict(overrides: Partial<VerdictInput> = {}) {
  return VerdictSchema.parse(assessCrashCost(input(overrides)));
}

test('AOF with appendfsync always loses nothing on a process crash or a power loss', () => {
  const result = verdict({ appendonly: true, appendfsync: 'always' });
  assert.equal(result.mode, 'aof');
  assert.equal(result.processCrash.worstCaseSeconds, 0);
  assert.equal(result.powerLoss.worstCaseSeconds, 0);
  assert.equal(result.powerLoss.basis, 'documented');
  assert.equal(result.atRiskNow, null);
});

test("AOF everysec: a process crash usually loses nothing, but up to 2 s while an fsync stalls (documented, the page's drills show it), and says when this disk has stalled", () => {
  const result = verdict({ appendonly: true, appendfsync: 'everysec' });
  assert.equal(result.processCrash.worstCaseSeconds, 2);
  assert.equal(result.processCrash.basis, 'documented');
  assert.doesNotMatch(result.processCrash.words, /measured|this project's tests/);
  assert.match(result.processCrash.words, /^Usually none: .* holds AOF writes back for up to 2 s and still replies/);
  assert.match(result.processCrash.words, /drills you can run: persistence\/what-a-crash-costs/);
  assert.ok(
    existsSync(join(import.meta.dirname, '..', '..', 'content', 'docs', `${result.processCrash.see}.mdx`)),
    'the page it names exists',
  );
  const stalled = verdict({
    appendonly: true,
    appendfsync: 'everysec',
    aof: { lastRewriteStatus: 'ok', rewriteInProgress: false, rewriteScheduled: false, lastWriteStatus: 'ok', delayedFsync: 4 },
  });
  assert.match(stalled.processCrash.words, /^Up to about 2 s of writes, and this disk has done it 4 times \(aof_delayed_fsync\)/);
  assert.equal(result.powerLoss.worstCaseSeconds, 2);
  assert.equal(result.powerLoss.basis, 'documented');
  assert.match(result.powerLoss.words, /About the last second of writes, up to 2 s/);
  assert.match(result.powerLoss.words, /a power cut in a VM shows it: persistence\/what-a-crash-costs/);
});

test('AOF appendfsync no: nothing lost on a process crash, what the OS had not flushed (~30 s) on a power loss', () => {
  const result = verdict({ appendonly: true, appendfsync: 'no' });
  assert.equal(result.processCrash.worstCaseSeconds, 0);
  assert.equal(result.powerLoss.worstCaseSeconds, 30);
  assert.match(result.powerLoss.words, /Whatever the OS had not yet written to disk/);
});

test('AOF with save rules notes that snapshots are only backups', () => {
  const result = verdict({ appendonly: true });
  assert.equal(result.mode, 'aof');
  assert.equal(result.warnings.length, 0);
  assert.match(result.notes.join(' '), /save "3600 1 300 100 60 10000".*a restart loads the AOF, never dump\.rdb/);
  assert.deepEqual(verdict({ appendonly: true, save: [] }).notes, []);
});

test('AOF warnings: failed write, failed rewrite, delayed fsync', () => {
  const result = verdict({
    appendonly: true,
    aof: { lastRewriteStatus: 'err', rewriteInProgress: false, rewriteScheduled: false, lastWriteStatus: 'err', delayedFsync: 3 },
  });
  assert.equal(result.warnings.length, 3);
  assert.match(result.warnings[0] ?? '', /aof_last_write_status:err/);
  assert.match(result.warnings[1] ?? '', /aof_last_bgrewrite_status:err/);
  assert.match(result.warnings[2] ?? '', /3 times/);
});

test('RDB only: everything since the last snapshot now, and the rule with 1 change bounds the worst case', () => {
  const result = verdict();
  assert.equal(result.mode, 'rdb');
  assert.deepEqual(result.atRiskNow, { writes: 42, seconds: 120 });
  assert.match(result.processCrash.words, /right now 42 writes made over the last 120 s/);
  assert.equal(result.processCrash.worstCaseSeconds, 3600);
  assert.equal(result.processCrash.basis, 'configuration');
  assert.match(result.processCrash.words, /rule "3600 1" takes a snapshot once more than 3600 s have passed/);
  assert.match(result.processCrash.words, /after 300 s if ≥ 100 changes, after 60 s if ≥ 10000 changes/);
  assert.equal(result.powerLoss.worstCaseSeconds, 3600);
  assert.match(result.notes.join(' '), /clean SHUTDOWN saves/);
});

test('RDB only: the worst case is the shortest window among the rules with the smallest threshold, not the longest window', () => {
  assert.equal(
    snapshotWorstCase([
      { seconds: 900, changes: 10 },
      { seconds: 300, changes: 1 },
    ]).seconds,
    300,
  );
  assert.equal(
    snapshotWorstCase([
      { seconds: 900, changes: 1 },
      { seconds: 300, changes: 1 },
    ]).seconds,
    300,
  );
});

test('RDB only: rules that all need more than one change leave a few writes unsaved with no time bound', () => {
  const worst = snapshotWorstCase([
    { seconds: 300, changes: 10 },
    { seconds: 60, changes: 10000 },
  ]);
  assert.equal(worst.seconds, null);
  assert.match(worst.words, /fewer than 10 changes never trigger a snapshot .* up to 9 writes can stay unsaved indefinitely/);
  assert.equal(verdict({ save: [{ seconds: 300, changes: 10 }] }).processCrash.worstCaseSeconds, null);
});

test('RDB only with a failed BGSAVE: a warning, and no bound', () => {
  const result = verdict({ lastBgsave: { status: 'err', inProgress: false, durationSeconds: 0 } });
  assert.equal(result.processCrash.worstCaseSeconds, null);
  assert.match(result.warnings[0] ?? '', /rdb_last_bgsave_status:err.*MISCONF/);
  assert.match(result.processCrash.words, /no bound until snapshots work again/);
});

test('no persistence: everything is lost on any restart', () => {
  const result = verdict({ save: [], changesSinceLastSave: 7, lastSaveAgeSeconds: 30 });
  assert.equal(result.mode, 'none');
  assert.equal(result.processCrash.worstCaseSeconds, null);
  assert.equal(result.powerLoss.worstCaseSeconds, null);
  assert.deepEqual(result.atRiskNow, { writes: 7, seconds: 30 });
  assert.match(result.processCrash.words, /lost on any restart, even a clean SHUTDOWN/);
  assert.match(result.processCrash.words, /the server holds 1000 keys/);
});

test('memory: no limit, noeviction, volatile and allkeys eviction', () => {
  assert.match(assessMemory(0, 'noeviction').note, /^No limit \(maxmemory 0\)/);
  assert.equal(assessMemory(0, 'allkeys-lru').evicts, false);
  const refused = assessMemory(104_857_600, 'noeviction');
  assert.equal(refused.evicts, false);
  assert.equal(refused.note, 'When full, writes are refused with an OOM error; nothing is evicted.');
  const volatile = assessMemory(1024, 'volatile-ttl');
  assert.equal(volatile.evicts, true);
  assert.match(volatile.note, /keys with a TTL are evicted \(volatile-ttl\): data loss by design/);
  assert.match(assessMemory(1024, 'allkeys-lru').note, /keys are evicted \(allkeys-lru\): data loss by design/);
});
