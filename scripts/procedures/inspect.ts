import { z } from 'zod';
import { flattenInfo, InfoPersistenceSchema, InfoServerSchema, parseInfo, parseKeyspace, parseSaveRules } from '../redis/info.ts';
import type { RedisCommands } from './commands.ts';
import { connect, DEFAULT_TIMEOUT_MS } from './connect.ts';
import type { ContainerRef } from './container.ts';
import { listContainerDataFiles } from './container-files.ts';
import { connectContainer } from './container-redis.ts';
import { listDataFiles } from './data-files.ts';
import { PlaybookError } from './errors.ts';
import { explainServerRefusal } from './server-refusal.ts';
import { InspectReportSchema, type InspectReport } from './inspect-report.ts';
import type { RedisTarget } from './target.ts';
import { rewindReach } from './rewind.ts';
import { assessCrashCost, assessMemory } from './verdict.ts';
import { parseReplication } from '../redis/replication.ts';
import { assessReplication } from './replication-verdict.ts';

/** The config parameters inspect reads, and whether a server may lack them. */
const CONFIG_FIELDS = {
  dir: true,
  dbfilename: true,
  appenddirname: false, // Redis 7+
  appendfilename: true,
  appendonly: true,
  appendfsync: true,
  'aof-timestamp-enabled': false, // Redis 7+
  save: true,
  maxmemory: true,
  'maxmemory-policy': true,
} as const;
type ConfigField = keyof typeof CONFIG_FIELDS;

/** INFO fields read beside the shared schemas. */
const InfoExtrasSchema = z.object({
  /** Microseconds since the epoch by the server's clock (Redis 6.2+). */
  server_time_usec: z.coerce.number().int().optional(),
  /** The config file the server was started with ('' when none). */
  config_file: z.string().optional(),
  /** Times a slow fsync held AOF writes back (present when AOF is on). */
  aof_delayed_fsync: z.coerce.number().int().optional(),
});

/** The config values as read, typed. */
const ConfigSchema = z.object({
  dir: z.string().min(1),
  dbfilename: z.string().min(1),
  appenddirname: z.string().min(1).nullable(),
  appendfilename: z.string().min(1),
  appendonly: z.enum(['yes', 'no']).transform((value) => value === 'yes'),
  appendfsync: z.enum(['always', 'everysec', 'no']),
  'aof-timestamp-enabled': z
    .enum(['yes', 'no'])
    .nullable()
    .transform((value) => (value === null ? null : value === 'yes')),
  save: z.string(),
  maxmemory: z.coerce.number().int().nonnegative(),
  'maxmemory-policy': z.string().min(1),
});

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** Sends one command; a refusal or a timeout becomes a {@link PlaybookError} naming the command. */
async function ask(client: RedisCommands, where: string, args: [string, ...(string | number)[]]): Promise<unknown> {
  const command = args.join(' ');
  try {
    return await client.call(...args);
  } catch (error) {
    if (error instanceof PlaybookError) throw error;
    const message = oneLine(error);
    // An ACL rule the user lacks: name the rule to add.
    const refusal = /^NOPERM\b/.test(message) ? explainServerRefusal(error) : undefined;
    if (refusal) throw refusal;
    if (/^CONFIG\b/i.test(command) && /unknown command/i.test(message)) {
      throw new PlaybookError(
        'other',
        `${where} refused CONFIG GET (${message}): inspect needs it to read dir, dbfilename, save, appendonly and maxmemory; ` +
          'CONFIG may be renamed or disabled (rename-command) or not allowed for this ACL user',
        { cause: error, command },
      );
    }
    throw new PlaybookError('other', `${where} failed "${command}": ${message}`, { cause: error, command });
  }
}

/** Turns a zod failure on server output into one exact line. */
function parseServerOutput<T extends z.ZodType>(schema: T, value: unknown, what: string, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`).join('; ');
  throw new PlaybookError('other', `Unexpected ${what} from ${where}: ${problems}`, { cause: result.error });
}

async function readConfig(client: RedisCommands, where: string): Promise<z.infer<typeof ConfigSchema>> {
  const names = Object.keys(CONFIG_FIELDS) as ConfigField[];
  // One parameter per call: CONFIG GET takes several only since Redis 7.
  const replies = await Promise.all(names.map((name) => ask(client, where, ['CONFIG', 'GET', name])));
  const values: Record<string, string | null> = {};
  names.forEach((name, index) => {
    const reply = replies[index];
    const value = Array.isArray(reply) && reply.length >= 2 ? String(reply[1]) : null;
    if (value === null && CONFIG_FIELDS[name]) {
      throw new PlaybookError('other', `${where} returned nothing for CONFIG GET ${name}: is it a Redis-compatible server?`);
    }
    values[name] = value;
  });
  return parseServerOutput(ConfigSchema, values, 'CONFIG GET values', where);
}

async function readInfo(client: RedisCommands, where: string, section: string): Promise<Record<string, string>> {
  const text = await ask(client, where, ['INFO', section]);
  return flattenInfo(parseInfo(String(text)));
}

/** Options of {@link inspect}. */
export interface InspectOptions {
  /** Connect and command timeout in milliseconds (per `docker exec` with a container). */
  timeoutMs?: number;
  /**
   * Inspect Redis inside this container: commands go through `docker exec NAME redis-cli`, with
   * `target` as seen inside the container, and the data files are listed inside it.
   */
  container?: ContainerRef;
}

/** An open way to send commands, and how to close it. */
async function open(target: RedisTarget, { timeoutMs, container }: { timeoutMs: number; container: ContainerRef | undefined }) {
  if (container) {
    const { commands, note } = await connectContainer(container, target, { timeoutMs });
    return { commands: commands as RedisCommands, note, where: commands.where, close: () => undefined };
  }
  const { client, note } = await connect(target, { timeoutMs });
  return {
    commands: client as RedisCommands,
    note,
    where: target.url,
    close: () => {
      client.disconnect();
    },
  };
}

/**
 * Gathers where the data lives, how it is persisted, the last save and rewrite, memory limits,
 * the data files when readable from here (or inside the container), and the verdict: what a crash can cost.
 */
export async function inspect(
  target: RedisTarget,
  { timeoutMs = DEFAULT_TIMEOUT_MS, container }: InspectOptions = {},
): Promise<InspectReport> {
  const { commands: client, note, where, close } = await open(target, { timeoutMs, container });
  try {
    const config = await readConfig(client, where);
    const [serverFields, persistenceFields, keyspaceFields, replicationFields] = await Promise.all(
      ['server', 'persistence', 'keyspace', 'replication'].map((section) => readInfo(client, where, section)),
    );
    const server = parseServerOutput(InfoServerSchema, serverFields, 'INFO server', where);
    const persistence = parseServerOutput(InfoPersistenceSchema, persistenceFields, 'INFO persistence', where);
    const extras = parseServerOutput(InfoExtrasSchema, { ...serverFields, ...persistenceFields }, 'INFO fields', where);
    let save;
    try {
      save = parseSaveRules(config.save);
    } catch (error) {
      throw new PlaybookError('other', `Unexpected CONFIG GET save from ${where}: ${oneLine(error)}`, { cause: error });
    }
    const keyspace = parseKeyspace(keyspaceFields ?? {});
    const nowSeconds = Math.floor((extras.server_time_usec ?? Date.now() * 1000) / 1_000_000);

    const state = {
      appendonly: config.appendonly,
      appendfsync: config.appendfsync,
      save,
      lastSaveTime: persistence.rdb_last_save_time,
      lastSaveAgeSeconds: Math.max(0, nowSeconds - persistence.rdb_last_save_time),
      changesSinceLastSave: persistence.rdb_changes_since_last_save,
      keys: Object.values(keyspace).reduce((sum, db) => sum + db.keys, 0),
      lastBgsave: {
        status: persistence.rdb_last_bgsave_status,
        inProgress: persistence.rdb_bgsave_in_progress,
        durationSeconds: persistence.rdb_last_bgsave_time_sec < 0 ? null : persistence.rdb_last_bgsave_time_sec,
      },
      aof: {
        lastRewriteStatus: persistence.aof_last_bgrewrite_status,
        rewriteInProgress: persistence.aof_rewrite_in_progress,
        rewriteScheduled: persistence.aof_rewrite_scheduled,
        lastWriteStatus: persistence.aof_last_write_status,
        delayedFsync: extras.aof_delayed_fsync ?? null,
      },
    };
    const names = {
      dir: config.dir,
      dbfilename: config.dbfilename,
      appenddirname: config.appenddirname,
      appendfilename: config.appendfilename,
    };
    const files = container
      ? await listContainerDataFiles(container, names)
      : await listDataFiles({ host: target.host, processId: server.process_id, ...names });
    const verdict = assessCrashCost(state);
    let replication;
    try {
      replication = parseReplication(replicationFields ?? {});
    } catch (error) {
      throw new PlaybookError('other', `Unexpected INFO replication from ${where}: ${oneLine(error)}`, { cause: error });
    }
    return InspectReportSchema.parse({
      url: target.url,
      ...(container ? { container: container.name } : {}),
      server: {
        name: server.server_name ?? 'redis',
        version: server.valkey_version ?? server.redis_version,
        redisVersion: server.redis_version,
        processId: server.process_id,
        configFile: extras.config_file || null,
      },
      dir: config.dir,
      dbfilename: config.dbfilename,
      appenddirname: config.appenddirname,
      appendfilename: config.appendfilename,
      ...state,
      rewind: await rewindReach({
        appendonly: config.appendonly,
        timestamps: config['aof-timestamp-enabled'],
        files,
        appendfilename: config.appendfilename,
        container: container !== undefined,
      }),
      memory: assessMemory(config.maxmemory, config['maxmemory-policy']),
      files,
      replication: { ...replication, ...assessReplication(replication, target.host, verdict.mode) },
      verdict,
      notes: note ? [note] : [],
    });
  } finally {
    close();
  }
}
