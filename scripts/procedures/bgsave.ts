import { waitFor } from '../core/wait.ts';
import { InfoPersistenceSchema, flattenInfo, parseInfo } from '../redis/info.ts';
import { pollOptions, type RedisCommands } from './commands.ts';
import { PlaybookError } from './errors.ts';
import { explainServerRefusal } from './server-refusal.ts';

/** Progress of a background save, as INFO persistence reports it. */
export interface SaveProgress {
  phase: 'waiting-for-running-save' | 'waiting-for-aof-rewrite' | 'saving';
  keysProcessed?: number;
  keysTotal?: number;
  elapsedMs: number;
}

export interface FreshSnapshotOptions {
  /** Called on every poll while the save runs. */
  onProgress?: (progress: SaveProgress) => void;
  /** Give up after this long (a large dataset can take minutes). */
  timeoutMs?: number;
  /**
   * Called when the server answers `Background saving started`: the child writing the requested
   * snapshot has been forked (not called for a save that is only scheduled). `requestedAt` is
   * `Date.now()` just before BGSAVE was sent.
   */
  onStarted?: (requestedAt: number) => void;
}

/** The server's clock in whole seconds (`TIME`). */
async function serverSeconds(client: RedisCommands): Promise<number> {
  try {
    const reply = (await client.call('TIME')) as [string | number, string | number];
    return Number(reply[0]);
  } catch (error) {
    // A refusal (ACL, rename-command) will not change: end the wait that polls this at once.
    const refusal = explainServerRefusal(error);
    throw refusal ? Object.assign(refusal, { fatal: true }) : error;
  }
}

async function persistence(client: RedisCommands) {
  const fields = flattenInfo(parseInfo(await client.info('persistence')));
  return { ...InfoPersistenceSchema.parse(fields), rdbSaves: Number(fields.rdb_saves ?? 0), fields };
}

/**
 * Whether the save asked for failed, once none is in progress: a save started since (rdb_saves grew)
 * ended with `err`. Without rdb_saves (Redis 6.0): `err` while no AOF rewrite runs either, since a
 * scheduled save starts in the same server tick as the rewrite it waited for ends.
 */
function ourSaveFailed(info: Awaited<ReturnType<typeof persistence>>, savesBefore: number): boolean {
  if (info.rdb_last_bgsave_status !== 'err') return false;
  return info.fields.rdb_saves === undefined ? !info.aof_rewrite_in_progress : info.rdbSaves > savesBefore;
}

/**
 * Makes the server write a snapshot that starts now, and waits until it is complete on disk.
 *
 * The proven way (see redis-facts): a BGSAVE already running started before us, so wait for it; note
 * LASTSAVE (1 s resolution, changes when a save completes) and let the server's clock leave its
 * second; ask for `BGSAVE SCHEDULE` (it waits for a running AOF rewrite instead of failing); done when
 * LASTSAVE changed and no save runs. A save that ends with `rdb_last_bgsave_status:err` is a failure.
 * Returns the new LASTSAVE. `client` is an ioredis client or a container's `docker exec` carrier.
 */
export async function freshSnapshot(client: RedisCommands, options: FreshSnapshotOptions = {}): Promise<number> {
  const { onProgress, onStarted, timeoutMs = 3_600_000 } = options;
  const started = performance.now();
  const report = (phase: SaveProgress['phase'], fields?: Record<string, string>) =>
    onProgress?.({
      phase,
      elapsedMs: performance.now() - started,
      keysProcessed: fields?.current_save_keys_processed === undefined ? undefined : Number(fields.current_save_keys_processed),
      keysTotal: fields?.current_save_keys_total === undefined ? undefined : Number(fields.current_save_keys_total),
    });
  // Polls that ask the server go at the carrier's pace.
  const wait = <T>(probe: () => Promise<T | false>, what: string) => waitFor(probe, { what, timeoutMs, ...pollOptions(client) });

  for (;;) {
    // 1. A save that is already running began before this request: its file would be stale.
    await wait(async () => {
      const info = await persistence(client);
      if (info.rdb_bgsave_in_progress) report('waiting-for-running-save', info.fields);
      return !info.rdb_bgsave_in_progress;
    }, 'the running BGSAVE to finish');
    const before = await client.lastsave();
    const savesBefore = (await persistence(client)).rdbSaves;
    // 2. LASTSAVE has 1-second resolution: a save completing within this second would look unchanged.
    // The server's own clock (TIME) decides, not this machine's: LASTSAVE is in the server's clock,
    // which may be another machine's, or jump (NTP, a VM resumed). "Another second" rather than "a
    // later one", so that a clock set back never makes this wait, or the one below, last for hours.
    await waitFor(async () => (await serverSeconds(client)) !== before, {
      what: "the server's clock to leave LASTSAVE's second",
      timeoutMs,
      ...pollOptions(client),
    });
    let reply: string;
    const requestedAt = Date.now();
    try {
      reply = String(await client.call('BGSAVE', 'SCHEDULE'));
    } catch (error) {
      // A save rule fired between the check and the request: wait for that one, then ask again.
      if (/already in progress/i.test((error as Error).message)) continue;
      throw (
        explainServerRefusal(error) ??
        new PlaybookError('other', `BGSAVE was refused: ${(error as Error).message}`, { cause: error, command: 'BGSAVE SCHEDULE' })
      );
    }
    if (/started/i.test(reply)) onStarted?.(requestedAt);
    // 3. Wait for completion; "scheduled" means it starts when the AOF rewrite ends.
    return await wait(async () => {
      const info = await persistence(client);
      const lastSave = info.rdb_last_save_time;
      if (info.rdb_bgsave_in_progress) {
        report('saving', info.fields);
        return false;
      }
      if (lastSave !== before && info.rdb_last_bgsave_status === 'ok') return lastSave;
      if (ourSaveFailed(info, savesBefore)) {
        throw Object.assign(
          new PlaybookError(
            'other',
            'The background save failed (rdb_last_bgsave_status:err): check the server log, disk space and permissions of the data dir',
            {
              command: 'BGSAVE SCHEDULE',
            },
          ),
          { fatal: true },
        );
      }
      report(/scheduled/i.test(reply) || info.aof_rewrite_in_progress ? 'waiting-for-aof-rewrite' : 'saving', info.fields);
      return false;
    }, 'the BGSAVE to complete');
  }
}
