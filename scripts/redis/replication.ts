import { z } from 'zod';

/** One replica as its primary lists it in INFO replication (`slave0:ip=…,port=…,state=online,offset=…,lag=…`). */
export const ReplicaEntrySchema = z.object({
  /** The replica's address as the primary sees it (or its `replica-announce-ip`). */
  host: z.string(),
  /** The replica's listening port. */
  port: z.number().int(),
  /** `online` once it holds the primary's data; `wait_bgsave`, `send_bulk`… while it syncs. */
  state: z.string(),
  /** The replication offset it acknowledged. */
  offset: z.number().int(),
});
export type ReplicaEntry = z.infer<typeof ReplicaEntrySchema>;

/** What INFO replication says about a server's place in a replication setup. */
export const ReplicationInfoSchema = z.object({
  /** `primary` (INFO `role:master`) or `replica` (`role:slave`). */
  role: z.enum(['primary', 'replica']),
  /** A replica's primary (`master_host`, `master_port`); absent on a primary. */
  primary: z.object({ host: z.string(), port: z.number().int() }).optional(),
  /** A replica's link to its primary: `up` when it receives its writes (`master_link_status`). */
  link: z.enum(['up', 'down']).optional(),
  /** The replicas connected to this server. */
  replicas: z.array(ReplicaEntrySchema),
  /** The replication offset: `slave_repl_offset` on a replica, `master_repl_offset` on a primary. */
  offset: z.number().int(),
  /** The replication id (`master_replid`). */
  replicationId: z.string(),
});
export type ReplicationInfo = z.infer<typeof ReplicationInfoSchema>;

/** Parses one `slaveN:` value (`ip=127.0.0.1,port=6380,state=online,offset=42,lag=0`). */
function parseReplicaEntry(value: string): ReplicaEntry {
  const fields = Object.fromEntries(value.split(',').map((pair) => pair.split('=') as [string, string]));
  return ReplicaEntrySchema.parse({ host: fields.ip, port: Number(fields.port), state: fields.state, offset: Number(fields.offset) });
}

/** The replication facts of a flattened INFO replication section (Redis 6 to 8, Valkey: the role is still `master`/`slave`). */
export function parseReplication(fields: Record<string, string | undefined>): ReplicationInfo {
  const replica = fields.role === 'slave';
  const replicas = Object.entries(fields)
    .filter(([name, value]) => /^slave\d+$/.test(name) && value !== undefined)
    .map(([, value]) => parseReplicaEntry(value as string));
  return ReplicationInfoSchema.parse({
    role: replica ? 'replica' : 'primary',
    ...(replica
      ? {
          primary: { host: fields.master_host, port: Number(fields.master_port) },
          link: fields.master_link_status === 'up' ? 'up' : 'down',
        }
      : {}),
    replicas,
    offset: Number((replica ? fields.slave_repl_offset : fields.master_repl_offset) ?? 0),
    replicationId: fields.master_replid ?? '',
  });
}

/** The replication id and offset a snapshot was taken at, from redis-check-rdb's `AUX FIELD repl-*` lines; undefined when it carries none. */
export function snapshotReplication(checkOutput: string): { replicationId: string; offset: number } | undefined {
  const id = /AUX FIELD repl-id = '([0-9a-f]+)'/.exec(checkOutput)?.[1];
  const offset = /AUX FIELD repl-offset = '(-?\d+)'/.exec(checkOutput)?.[1];
  return id === undefined || offset === undefined ? undefined : { replicationId: id, offset: Number(offset) };
}
