import type { RedisCommands } from './commands.ts';
import { z } from 'zod';
import { flattenInfo, parseInfo } from '../redis/info.ts';

/** One thing `watch` saw happen. */
export const WatchEventSchema = z.object({
  /** When it was seen (ISO 8601, UTC). */
  time: z.iso.datetime(),
  /** What happened. */
  event: z.enum([
    'status',
    'save-started',
    'save-finished',
    'aof-rewrite-started',
    'aof-rewrite-finished',
    'save-error',
    'aof-write-error',
  ]),
  /** Writes not yet in a snapshot. */
  changesSinceLastSave: z.number().int().nonnegative(),
  /** For finished saves and rewrites: how long it took, seconds (from INFO). */
  durationSec: z.number().optional(),
  /** For finished saves and rewrites: `ok` or `err`. */
  status: z.string().optional(),
  /** The last fork, microseconds (INFO stats latest_fork_usec): the time the server was blocked to start the child. */
  forkUsec: z.number().int().nonnegative().optional(),
  /** True when the start was not seen in progress (the save began and ended between two polls). */
  inferred: z.boolean().optional(),
});
export type WatchEvent = z.infer<typeof WatchEventSchema>;

interface Sample {
  saving: boolean;
  rewriting: boolean;
  /** INFO's rdb_saves (saves started); undefined where INFO has none (Redis 6.0). */
  saves: number | undefined;
  lastSave: number;
  rewrites: number;
  changes: number;
  saveStatus: string;
  saveSec: number;
  rewriteStatus: string;
  rewriteSec: number;
  writeStatus: string;
  forkUsec: number;
}

async function sample(client: Pick<RedisCommands, 'info'>): Promise<Sample> {
  const info = flattenInfo(parseInfo(await client.info('all')));
  const n = (name: string) => Number(info[name] ?? 0);
  return {
    saving: info.rdb_bgsave_in_progress === '1',
    rewriting: info.aof_rewrite_in_progress === '1',
    saves: info.rdb_saves === undefined ? undefined : n('rdb_saves'),
    lastSave: n('rdb_last_save_time'),
    rewrites: n('aof_rewrites'),
    changes: n('rdb_changes_since_last_save'),
    saveStatus: info.rdb_last_bgsave_status ?? 'ok',
    saveSec: n('rdb_last_bgsave_time_sec'),
    rewriteStatus: info.aof_last_bgrewrite_status ?? 'ok',
    rewriteSec: n('aof_last_rewrite_time_sec'),
    writeStatus: info.aof_last_write_status ?? 'ok',
    forkUsec: n('latest_fork_usec'),
  };
}

/**
 * Whether a save began and ended between two polls where neither saw it running: rdb_saves grew, or,
 * without that counter (Redis 6.0), the last save time moved or the save status turned to err.
 */
function saveBetweenPolls(before: Sample, now: Sample): boolean {
  if (before.saves !== undefined && now.saves !== undefined) return now.saves > before.saves;
  return now.lastSave > before.lastSave || (before.saveStatus === 'ok' && now.saveStatus !== 'ok');
}

/** The events between two samples, in the order they happened. */
export function eventsBetween(before: Sample, now: Sample, time: string): WatchEvent[] {
  const events: WatchEvent[] = [];
  const base = { time, changesSinceLastSave: now.changes };
  const savedBetween = !before.saving && !now.saving && saveBetweenPolls(before, now);
  const saveEnded = (before.saving && !now.saving) || savedBetween;
  if ((!before.saving && now.saving) || savedBetween) {
    events.push({ ...base, event: 'save-started', forkUsec: now.forkUsec, ...(now.saving ? {} : { inferred: true }) });
  }
  if (saveEnded) {
    events.push({
      ...base,
      event: now.saveStatus === 'ok' ? 'save-finished' : 'save-error',
      durationSec: now.saveSec,
      status: now.saveStatus,
    });
  }
  const rewriteEnded = (before.rewriting && !now.rewriting) || (!before.rewriting && !now.rewriting && now.rewrites > before.rewrites);
  if ((!before.rewriting && now.rewriting) || (!before.rewriting && !now.rewriting && now.rewrites > before.rewrites)) {
    events.push({ ...base, event: 'aof-rewrite-started', forkUsec: now.forkUsec, ...(now.rewriting ? {} : { inferred: true }) });
  }
  if (rewriteEnded) {
    events.push({ ...base, event: 'aof-rewrite-finished', durationSec: now.rewriteSec, status: now.rewriteStatus });
  }
  if (before.writeStatus === 'ok' && now.writeStatus !== 'ok') events.push({ ...base, event: 'aof-write-error', status: now.writeStatus });
  return events;
}

export interface WatchOptions {
  /** Stop after this many milliseconds (default: until the signal aborts). */
  forMs?: number;
  /** Poll interval. */
  intervalMs?: number;
  /** A status line this often, milliseconds. */
  statusEveryMs?: number;
  signal?: AbortSignal;
  onEvent: (event: WatchEvent) => void;
}

/**
 * Follows a server's persistence by polling INFO: saves and AOF rewrites starting and finishing (with
 * duration, status and fork time), errors, and a periodic status line with the writes not yet saved.
 * A save that starts and ends between two polls is still reported (rdb_saves counts started saves;
 * without it, Redis 6.0, a new last save time or a save status turned to err).
 */
export async function watchPersistence(client: Pick<RedisCommands, 'info'>, options: WatchOptions): Promise<void> {
  const { forMs, intervalMs = 100, statusEveryMs = 5_000, signal, onEvent } = options;
  const end = forMs === undefined ? Infinity : performance.now() + forMs;
  let before = await sample(client);
  const now = () => new Date().toISOString();
  onEvent({ time: now(), event: 'status', changesSinceLastSave: before.changes, forkUsec: before.forkUsec });
  if (before.saving) onEvent({ time: now(), event: 'save-started', changesSinceLastSave: before.changes, forkUsec: before.forkUsec });
  if (before.rewriting)
    onEvent({ time: now(), event: 'aof-rewrite-started', changesSinceLastSave: before.changes, forkUsec: before.forkUsec });
  let lastStatus = performance.now();
  while (performance.now() < end && !signal?.aborted) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, end - performance.now()))));
    const current = await sample(client);
    for (const event of eventsBetween(before, current, now())) onEvent(event);
    if (performance.now() - lastStatus >= statusEveryMs) {
      onEvent({ time: now(), event: 'status', changesSinceLastSave: current.changes });
      lastStatus = performance.now();
    }
    before = current;
  }
}
