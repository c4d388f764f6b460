import type { SaveRule } from '../redis/info.ts';
import type { InspectReport, Loss, Memory, Verdict } from './inspect-report.ts';

/** What the verdict depends on: a slice of the report. */
export type VerdictInput = Pick<
  InspectReport,
  'appendonly' | 'appendfsync' | 'save' | 'lastSaveTime' | 'lastSaveAgeSeconds' | 'changesSinceLastSave' | 'keys' | 'lastBgsave' | 'aof'
>;

/** One rule in words: `after 3600 s if ≥ 1 change`. */
export function ruleWords(rule: SaveRule): string {
  return `after ${rule.seconds} s if ≥ ${rule.changes} change${rule.changes === 1 ? '' : 's'}`;
}

/** `"900 1 300 10"` as it appears in redis.conf. */
export function saveRulesText(rules: SaveRule[]): string {
  return rules.length === 0 ? '""' : `"${rules.map((rule) => `${rule.seconds} ${rule.changes}`).join(' ')}"`;
}

/**
 * The longest time a write can stay out of a snapshot under these rules. A rule `S C` starts a
 * snapshot once more than S seconds have passed since the last completed one and at least C keys
 * changed. With few writes only the rules with the smallest C can fire: if that C is 1, the worst
 * case is the smallest S among them; if it is above 1, fewer than C writes are never saved.
 */
export function snapshotWorstCase(rules: SaveRule[]): { seconds: number | null; words: string } {
  if (rules.length === 0) return { seconds: null, words: 'no save rules: nothing is saved automatically' };
  const minChanges = Math.min(...rules.map((rule) => rule.changes));
  const binding = rules.filter((rule) => rule.changes === minChanges).sort((a, b) => a.seconds - b.seconds)[0] as SaveRule;
  const faster = rules
    .filter((rule) => rule !== binding && rule.seconds < binding.seconds)
    .sort((a, b) => a.changes - b.changes)
    .map(ruleWords);
  const sooner = faster.length > 0 ? `; with more writes a snapshot comes sooner (${faster.join(', ')})` : '';
  if (minChanges === 1) {
    return {
      seconds: binding.seconds,
      words:
        `up to ${binding.seconds} s of writes: the rule "${binding.seconds} ${binding.changes}" takes a snapshot once more than ` +
        `${binding.seconds} s have passed since the last one and ≥ 1 key changed, plus the time the snapshot takes to write${sooner}`,
    };
  }
  return {
    seconds: null,
    words:
      `no time bound: fewer than ${minChanges} changes never trigger a snapshot (smallest threshold: rule ` +
      `"${binding.seconds} ${binding.changes}"), so up to ${minChanges - 1} writes can stay unsaved indefinitely${sooner}`,
  };
}

/** Snapshot-only and no-persistence verdicts: everything since the last completed save is at risk. */
function sinceLastSave(input: VerdictInput): Verdict {
  const atRiskNow = { writes: input.changesSinceLastSave, seconds: input.lastSaveAgeSeconds };
  const since = new Date(input.lastSaveTime * 1000).toISOString();
  const now = `right now ${atRiskNow.writes} write${atRiskNow.writes === 1 ? '' : 's'} made over the last ${atRiskNow.seconds} s (since ${since})`;
  const warnings: string[] = [];
  const notes: string[] = [];
  const failing = input.lastBgsave.status !== 'ok';
  if (failing) {
    warnings.push(
      `The last background snapshot FAILED (rdb_last_bgsave_status:${input.lastBgsave.status}): nothing written since ${since} is on disk. ` +
        'Check the server log (disk full? dir not writable?); with stop-writes-on-bgsave-error yes (the default) writes are refused with MISCONF.',
    );
  }
  if (input.save.length === 0) {
    const loss: Loss = {
      words:
        `Everything written since the last save is lost on any restart, even a clean SHUTDOWN: no save rules and no AOF, ${now}; ` +
        `the server holds ${input.keys} keys. A restart brings back only what dump.rdb held, if it exists.`,
      worstCaseSeconds: null,
      basis: 'configuration',
    };
    return { mode: 'none', processCrash: loss, powerLoss: loss, atRiskNow, warnings, notes };
  }
  const worst = snapshotWorstCase(input.save);
  const words = failing
    ? `Everything written since the last completed snapshot, ${now}, and there is no bound until snapshots work again.`
    : `Everything written since the last completed snapshot: ${now}. Worst case: ${worst.words}.`;
  const processCrash: Loss = { words, worstCaseSeconds: failing ? null : worst.seconds, basis: 'configuration' };
  notes.push('A clean SHUTDOWN saves a snapshot first, so a planned restart loses nothing.');
  return {
    mode: 'rdb',
    processCrash,
    powerLoss: { ...processCrash, words: `The same as a process crash. ${words}` },
    atRiskNow,
    warnings,
    notes,
  };
}

/** AOF verdicts, by appendfsync. */
function fromAof(input: VerdictInput): Verdict {
  const warnings: string[] = [];
  const notes: string[] = [];
  if (input.aof.lastWriteStatus !== 'ok') {
    warnings.push(
      `The last write to the AOF FAILED (aof_last_write_status:${input.aof.lastWriteStatus}): Redis refuses writes until it can write the AOF again; check disk space and the server log.`,
    );
  }
  if (input.aof.lastRewriteStatus !== 'ok') {
    warnings.push(
      `The last AOF rewrite failed (aof_last_bgrewrite_status:${input.aof.lastRewriteStatus}): the AOF keeps growing; see the server log.`,
    );
  }
  if (input.appendfsync === 'everysec' && (input.aof.delayedFsync ?? 0) > 0) {
    warnings.push(
      `The disk is slow: ${input.aof.delayedFsync} times an fsync was still running and Redis held AOF writes back (aof_delayed_fsync).`,
    );
  }
  if (input.save.length > 0) {
    notes.push(
      `Snapshots are taken too (save ${saveRulesText(input.save)}): they are backups only; a restart loads the AOF, never dump.rdb.`,
    );
  }
  const noProcessLoss: Loss = {
    words: 'No acknowledged write is lost: Redis hands each write to the OS before it replies.',
    worstCaseSeconds: 0,
    basis: 'documented',
  };
  switch (input.appendfsync) {
    case 'always':
      return {
        mode: 'aof',
        processCrash: noProcessLoss,
        powerLoss: {
          words: `No acknowledged write is lost: with appendfsync always Redis fsyncs the AOF before it replies (documented; a power cut in a VM shows it: ${CRASH_DRILL_PAGE} in the Redis Playbook).`,
          worstCaseSeconds: 0,
          basis: 'documented',
        },
        atRiskNow: null,
        warnings,
        notes,
      };
    case 'everysec':
      return {
        mode: 'aof',
        // Not a measurement of this server: the drills that show it are on the playbook's page.
        processCrash: {
          words:
            (input.aof.delayedFsync ?? 0) > 0
              ? `Up to about 2 s of writes, and this disk has done it ${input.aof.delayedFsync} times (aof_delayed_fsync): while an fsync is still running Redis holds AOF writes back for up to 2 s and still replies, so a kill -9 then loses them (drills you can run: ${CRASH_DRILL_PAGE} in the Redis Playbook).`
              : `Usually none: Redis hands each write to the OS before it replies. But while an fsync is still running (a slow or busy disk) Redis holds AOF writes back for up to 2 s and still replies, so a kill -9 then loses them (drills you can run: ${CRASH_DRILL_PAGE} in the Redis Playbook).`,
          worstCaseSeconds: 2,
          basis: 'documented',
          see: CRASH_DRILL_PAGE,
        },
        powerLoss: {
          words: `About the last second of writes, up to 2 s when the disk is slow to fsync (documented by Redis; a power cut in a VM shows it: ${CRASH_DRILL_PAGE} in the Redis Playbook).`,
          worstCaseSeconds: 2,
          basis: 'documented',
        },
        atRiskNow: null,
        warnings,
        notes,
      };
    case 'no':
      return {
        mode: 'aof',
        processCrash: noProcessLoss,
        powerLoss: {
          words: `Whatever the OS had not yet written to disk: Redis never fsyncs, so on Linux typically up to about 30 s of writes (vm.dirty_expire_centisecs = 3000); documented, and a power cut in a VM shows it: ${CRASH_DRILL_PAGE} in the Redis Playbook.`,
          worstCaseSeconds: 30,
          basis: 'documented',
        },
        atRiskNow: null,
        warnings,
        notes,
      };
  }
}

/** The playbook page (under content/docs) whose kill -9 drills show what a process crash costs. */
export const CRASH_DRILL_PAGE = 'persistence/what-a-crash-costs';

/** What a process crash and a power loss cost with this configuration. Pure. */
export function assessCrashCost(input: VerdictInput): Verdict {
  return input.appendonly ? fromAof(input) : sinceLastSave(input);
}

/** What happens when `maxmemory` is reached under `policy`. Pure. */
export function assessMemory(maxmemory: number, policy: string): Memory {
  if (maxmemory === 0) {
    return {
      maxmemory,
      policy,
      evicts: false,
      note: `No limit (maxmemory 0): the policy (${policy}) never applies; Redis grows until the OS runs out of memory, and an OOM kill is a process crash.`,
    };
  }
  if (policy === 'noeviction') {
    return { maxmemory, policy, evicts: false, note: 'When full, writes are refused with an OOM error; nothing is evicted.' };
  }
  if (policy.startsWith('volatile-')) {
    return {
      maxmemory,
      policy,
      evicts: true,
      note: `When full, keys with a TTL are evicted (${policy}): data loss by design; once none are left, writes are refused with an OOM error.`,
    };
  }
  return { maxmemory, policy, evicts: true, note: `When full, keys are evicted (${policy}): data loss by design.` };
}
