import { join } from 'node:path';
import { disposeComposeProject } from '../harness/docker/project.ts';
import { uniqueNames } from '../harness/docker/options.ts';
import { freePort } from '../harness/free-port.ts';
import type { ValuesFn, VerifyContext } from './schema.ts';
import { waitUntil } from './shell-wait.ts';

/** Runs `redis-cli` in a service of the practice project against its own port. */
const cli = (service: 'primary' | 'replica') =>
  `docker compose exec -T ${service} redis-cli -p "${service === 'primary' ? '$port' : '$rport'}"`;
/** Waits until the replica's link is up at the primary's replication ID and offset: it has every write of the primary as it runs now (after a restart too). */
const synced = () => [
  waitUntil(
    `[ "$(${cli('replica')} INFO replication | position)" = "$(${cli('primary')} INFO replication | position)" ] && ${cli('replica')} INFO replication | grep -q master_link_status:up`,
  ),
];

/**
 * Lines of shell for a practice Compose project of a primary and its replica, both from your image
 * (`{{image}}`), each on a volume of its own, with `network_mode: host` on free ports of the host's
 * loopback (`{{scratchPort}}`, `{{scratchReplicaPort}}`) and `restart: always`, as a reader's
 * production project may run them. The project is `{{project}}-replicas`, its compose file in
 * `{{scratchDir}}`; your own project is never touched. Scripts built from these define `$port`,
 * `$rport` and run from the project dir with `COMPOSE_PROJECT_NAME` exported.
 */
export const composeReplicaPractice = {
  /** The compose file (the primary with `persistence`), `up -d`, and a wait until the replica's link is up. */
  setup: (persistence: string) => [
    'export COMPOSE_PROJECT_NAME={{project}}-replicas; port={{scratchPort}}; rport={{scratchReplicaPort}}',
    'mkdir -p {{scratchDir}} && cd {{scratchDir}}',
    'cat > docker-compose.yml <<EOF',
    'services:',
    '  primary:',
    '    image: {{image}}',
    '    network_mode: host',
    '    restart: always',
    `    command: redis-server --port $port --bind 127.0.0.1 ${persistence}`,
    '    volumes: [primary-data:/data]',
    '  replica:',
    '    image: {{image}}',
    '    network_mode: host',
    '    restart: always',
    '    command: redis-server --port $rport --bind 127.0.0.1 --appendonly yes --replicaof 127.0.0.1 $port',
    '    volumes: [replica-data:/data]',
    'volumes:',
    '  primary-data:',
    '  replica-data:',
    'EOF',
    'docker compose up -d',
    '# Where a server is in the replication stream: its replication ID and offset',
    "position() { grep -E '^master_(replid|repl_offset):' | tr -d '\\r'; }",
    waitUntil(`${cli('replica')} INFO replication 2>/dev/null | grep -q master_link_status:up`),
  ],
  /** `redis-cli` on the primary or the replica. */
  cli,
  /** Writes SET key:N N for N in 1..keys to the primary; prints redis-cli's `errors: 0, replies: N`. */
  write: (keys: number) => [`seq 1 ${keys} | sed 's/.*/SET key:& &/' | ${cli('primary')} --pipe | tail -n 1`],
  /**
   * A crash of the primary: SIGKILL from outside (as the OOM killer sends it), so `restart: always`
   * starts it again at once; waits until the restarted one answers and the replica has synced from it.
   */
  crashPrimary: () => [
    'kill -9 "$(docker inspect -f "{{.State.Pid}}" "$(docker compose ps -q primary)")"',
    waitUntil(
      `[ "$(docker inspect -f "{{.RestartCount}}" "$(docker compose ps -q primary)")" -ge 1 ] && ${cli('primary')} PING 2>/dev/null | grep -q PONG`,
    ),
    ...synced(),
  ],
  /** Waits until the replica has every write of the primary as it runs now. */
  synced,
  /** Prints `<label>: <DBSIZE>` of a service. */
  count: (label: string, service: 'primary' | 'replica') => [`echo "${label}: $(${cli(service)} DBSIZE)"`],
  /** Removes the practice project, its containers and volumes. */
  discard: () => ['docker compose down --volumes --timeout 0 2>/dev/null'],
};

/** A unique project, free ports of the host for both servers, and a dir for the compose file. */
export const composeReplicaPracticeValues: ValuesFn<
  unknown,
  Record<'project' | 'scratchDir' | 'scratchPort' | 'scratchReplicaPort', string>
> = async ({ scratch }) => ({
  project: uniqueNames().project,
  scratchDir: join(scratch, 'practice'),
  scratchPort: String(await freePort()),
  scratchReplicaPort: String(await freePort()),
});

/**
 * Runs a practice Compose script; whatever happens, its project (containers, volumes, networks) is
 * removed after the run (`ctx.defer`), and a project that cannot be removed fails the verification.
 */
export async function runComposeReplicaPractice(
  ctx: VerifyContext<unknown, 'project'>,
  timeoutMs: number,
): Promise<{ exitCode: number; stdout: string }> {
  const project = `${ctx.values.project}-replicas`;
  ctx.defer(() => disposeComposeProject(project));
  return ctx.run({ timeoutMs });
}
