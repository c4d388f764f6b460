import type { ReplicationInfo } from '../redis/replication.ts';
import type { PersistenceMode } from './inspect-report.ts';

/** The page with the drills behind these words. */
export const REPLICATION_PAGE = '/operations/replicas-and-sentinel/';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Whether `host` names the same machine as `self` (the address the server was reached at) as far as addresses tell. */
function sameHost(host: string, self: string): boolean {
  return host === self || (LOOPBACK.has(host) && LOOPBACK.has(self)) || LOOPBACK.has(host);
}

/** What replication adds to fault tolerance, what it does not, and what needs attention now. */
export interface ReplicationAssessment {
  adds: string[];
  doesNot: string[];
  warnings: string[];
}

const NOT_A_BACKUP =
  "A replica copies every write, a FLUSHALL or a bad deploy's deletes included: it is no backup, and it cannot roll anything back.";
const ASYNC =
  'Replication is asynchronous: the last writes a primary acknowledged before it died may never reach a replica (WAIT makes a client wait for them).';

/**
 * Assesses a server's replication from INFO replication: `self` is the host it was reached at, `mode`
 * what its own restart loads.
 */
export function assessReplication(info: ReplicationInfo, self: string, mode: PersistenceMode): ReplicationAssessment {
  const adds: string[] = [];
  const doesNot: string[] = [];
  const warnings: string[] = [];
  if (info.role === 'replica' && info.primary) {
    const primary = `${info.primary.host}:${info.primary.port}`;
    adds.push(
      `A second copy of the data of ${primary}: if that server or its disk is lost, this replica holds its writes (promote it with REPLICAOF NO ONE, or let Sentinel do it).`,
    );
    adds.push('Backups can be taken here: a snapshot forks this replica, never its primary.');
    if (sameHost(info.primary.host, self))
      doesNot.push(`Its primary ${primary} runs on the same host: losing this host, or a disk or volume they share, loses both copies.`);
    doesNot.push(NOT_A_BACKUP, ASYNC);
    if (info.link === 'down') warnings.push(`The link to the primary ${primary} is down: this replica does not receive its writes now.`);
    return { adds, doesNot, warnings };
  }
  if (info.replicas.length === 0) {
    doesNot.push('No replica is connected: losing this host or its disk loses every write since the last backup.');
    return { adds, doesNot, warnings };
  }
  const list = info.replicas.map((replica) => `${replica.host}:${replica.port} (${replica.state})`).join(', ');
  adds.push(
    `${info.replicas.length} replica${info.replicas.length === 1 ? '' : 's'} hold a copy of every write: ${list}. A backup taken on one of them does not fork this server.`,
  );
  const local = info.replicas.filter((replica) => sameHost(replica.host, self));
  if (local.length > 0) {
    doesNot.push(
      `${local.map((replica) => `${replica.host}:${replica.port}`).join(', ')} run${local.length === 1 ? 's' : ''} on this same host: losing the host, or a disk or volume they share, loses those copies too.`,
    );
  }
  doesNot.push(NOT_A_BACKUP, ASYNC);
  if (mode === 'none') {
    warnings.push(
      `Persistence is off on a primary with replicas: restarted (a crash with automatic restart), it comes back empty and its replicas copy the empty dataset. Turn on the AOF or snapshots here, or never restart it automatically (see ${REPLICATION_PAGE}).`,
    );
  }
  return { adds, doesNot, warnings };
}
