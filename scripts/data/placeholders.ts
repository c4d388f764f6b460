import { z } from 'zod';
import { shellQuote } from '../core/shell-quote.ts';

/** A named value in a command, shown with its documented default and filled per server in verification. */
export const PlaceholderSchema = z.object({
  /** The value a reader sees in the command (the seed's setup where it has one). */
  default: z.string().min(1),
  /** What the reader should put there. */
  description: z.string().min(1),
  /** The default in Docker-flavor commands where it differs (a path inside the container). */
  docker: z.string().min(1).optional(),
});
export type Placeholder = z.infer<typeof PlaceholderSchema>;

/** Every placeholder a command may use, as `{{name}}`. */
export const placeholders = {
  host: { default: '127.0.0.1', description: 'Address of the Redis server' },
  port: { default: '6379', description: 'TCP port of the Redis server' },
  dataDir: { default: '/var/lib/redis', docker: '/data', description: "The server's data directory (`CONFIG GET dir`)" },
  dbfilename: { default: 'dump.rdb', description: 'The snapshot file name in the data directory (`CONFIG GET dbfilename`)' },
  appenddirname: {
    default: 'appendonlydir',
    description: 'The AOF directory in the data directory (`CONFIG GET appenddirname`, Redis 7+)',
  },
  appendfilename: { default: 'appendonly.aof', description: 'The base name of the AOF files (`CONFIG GET appendfilename`)' },
  backupDir: { default: '/var/backups/redis', description: 'Where backups are kept' },
  backup: {
    default: '/var/backups/redis/2026-11-25T03-00-00Z',
    description: 'One backup folder (made by redis-playbook backup or the manual procedure)',
  },
  checkout: {
    default: '/opt/redis-playbook',
    description: "Where the CLI is installed (its bin/redis-playbook): the npm prefix, the single executable's dir, or a checkout",
  },
  downloadDir: {
    default: '/root/redis-playbook-release',
    description: 'Where you copied the release files (the npm tarball, the single executable and their .sha256 files)',
  },
  backupLog: { default: '/var/log/redis-playbook-backup.log', description: 'Log file of the scheduled backup' },
  rewindTime: {
    default: '2026-12-02T14:05:00Z',
    description: 'The last second whose writes you keep (ISO 8601 with a zone, or Unix seconds)',
  },
  expectFile: { default: '/etc/redis-playbook/expect.yaml', description: 'The file listing what must be there after a recovery' },
  configFile: { default: '/etc/redis/redis.conf', description: 'The config file the server starts with' },
  logFile: { default: '/var/log/redis/redis-server.log', description: "The server's log file (`CONFIG GET logfile`)" },
  scratchPort: { default: '6390', description: 'A free port for a throwaway practice server' },
  scratchDir: { default: '/tmp/redis-crash-drill', description: 'An empty directory for a throwaway practice server' },
  scratchReplicaPort: { default: '6391', description: "A free port for the practice server's replica" },
  primaryNetns: { default: 'redis-drill-a', description: "A name for the practice network namespace of the primary's host (host A)" },
  replicaNetns: { default: 'redis-drill-b', description: "A name for the practice network namespace of the replica's host (host B)" },
  scratchSentinelPort: { default: '26390', description: 'A free port for the practice Sentinel' },
  clusterPort1: { default: '7000', description: 'TCP port of the first primary of the Redis Cluster' },
  clusterPort2: { default: '7001', description: 'TCP port of the second primary of the Redis Cluster' },
  clusterPort3: { default: '7002', description: 'TCP port of the third primary of the Redis Cluster' },
  clusterDir1: {
    default: '/var/lib/redis/7000',
    description: 'Data directory of the cluster node on port 7000 (`CONFIG GET dir` on that node)',
  },
  clusterDir2: {
    default: '/var/lib/redis/7001',
    description: 'Data directory of the cluster node on port 7001 (`CONFIG GET dir` on that node)',
  },
  clusterDir3: {
    default: '/var/lib/redis/7002',
    description: 'Data directory of the cluster node on port 7002 (`CONFIG GET dir` on that node)',
  },
  resticRepoFile: {
    default: '/etc/redis-playbook/restic-repository',
    description:
      'A root-only file holding the restic repository URL (`s3:https://s3.example.net/redis-backups`, or `rest:https://user:password@backup-host:8000/redis`)',
  },
  resticPasswordFile: {
    default: '/etc/redis-playbook/restic-password',
    description:
      'A root-only file holding the restic repository password (keep a copy off the machine: without it the backups cannot be read)',
  },
  metricsFile: {
    default: '/var/lib/prometheus/node-exporter/redis-backup.prom',
    description: 'The node_exporter textfile collector file of the backup freshness gauge',
  },
  container: { default: 'crawler-redis', description: 'Name of the Redis container' },
  service: { default: 'redis', description: 'Compose service name of Redis' },
  volume: { default: 'crawler_redis-data', description: 'Docker volume holding /data' },
  project: { default: 'crawler', description: 'Compose project name (the directory of docker-compose.yml unless set)' },
  image: { default: 'redis:7.0', description: 'The Redis image your compose file runs' },
  prometheus: { default: 'http://127.0.0.1:9090', description: 'The address of your Prometheus (its web listen address)' },
  newImage: {
    default: 'redis:8.6',
    description: 'The image you move the Compose service to (an upgrade: `redis:8.6`, `valkey/valkey:9.1`)',
  },
} as const satisfies Record<string, Placeholder>;

export type PlaceholderName = keyof typeof placeholders;
export const placeholderNames = Object.keys(placeholders) as PlaceholderName[];

/** The documented value of a placeholder in a flavor's commands (`dataDir` is `/data` in Docker ones). */
export function placeholderDefault(name: PlaceholderName, flavor: 'host' | 'docker' = 'host'): string {
  const placeholder: Placeholder = placeholders[name];
  return (flavor === 'docker' ? placeholder.docker : undefined) ?? placeholder.default;
}

const PLACEHOLDER = /\{\{([A-Za-z][A-Za-z0-9]*)\}\}/g;

/** The placeholder names a template uses, in order of first use. */
export function placeholdersIn(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

export { shellQuote };

/** A piece of a rendered command: literal text, or a filled placeholder (the site marks those up). */
export type CommandPart = { text: string } | { placeholder: PlaceholderName; text: string };

/**
 * Splits a template into literal and placeholder parts, filling each placeholder shell-quoted: the
 * given value, else the documented default for `flavor`.
 */
export function commandParts(
  template: string,
  values: Partial<Record<string, string>> = {},
  flavor: 'host' | 'docker' = 'host',
): CommandPart[] {
  const parts: CommandPart[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] as string;
    if (!(name in placeholders)) throw new Error(`Unknown placeholder {{${name}}} in command: ${template}`);
    if (match.index > last) parts.push({ text: template.slice(last, match.index) });
    const value = values[name] ?? placeholderDefault(name as PlaceholderName, flavor);
    parts.push({ placeholder: name as PlaceholderName, text: shellQuote(value) });
    last = match.index + match[0].length;
  }
  if (last < template.length) parts.push({ text: template.slice(last) });
  return parts;
}

/** Fills a template: given values where present, the documented defaults (of `flavor`) elsewhere. */
export function fillCommand(template: string, values: Partial<Record<string, string>> = {}, flavor: 'host' | 'docker' = 'host'): string {
  return commandParts(template, values, flavor)
    .map((part) => part.text)
    .join('');
}
