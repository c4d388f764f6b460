import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../exec.ts';
import { startCluster } from '../../harness/cluster.ts';
import type { Engine } from '../../harness/engine.ts';
import { dockerTry } from '../../harness/docker/exec.ts';
import { freePort } from '../../harness/free-port.ts';
import { startRedis } from '../../harness/redis-server.ts';
import { engineTraits } from '../../engines/catalog.ts';
import { readAnyManifest } from '../../procedures/manifest.ts';
import {
  clusterOf,
  clusterValues,
  startComposePractice,
  startHostPractice,
  type ClusterKey,
  type ClusterPrimary,
  ClusterView,
  NUMBERS,
  ownPracticeValues,
  type PracticeCluster,
} from '../cluster-practice.ts';
import { labelledNumber } from '../outputs.ts';
import { killPidFiles } from '../pid-files.ts';
import {
  defineSnippet,
  type CommandResult,
  type PlaceholderValues,
  type SnippetInput,
  type ValuesContext,
  type ValuesFn,
  type Variant,
  type VerifyContext,
} from '../schema.ts';
import { sameCheck } from '../same-check.ts';
import { waitUntil, waitWhile } from '../shell-wait.ts';
import { engineVariant } from '../variants.ts';

const page = 'operations/redis-cluster';

/** Keys of the standalone backup and of the filled cluster: `key:1` … `key:1000`. */
const KEYS = 1000;
/** The cluster's three primaries as the commands name them. */
const PORTS = '{{clusterPort1}} {{clusterPort2}} {{clusterPort3}}';
/** Config of every practice node besides the cluster's own: `--cluster backup` streams at once instead of after the default 5 s. */
const NODE_CONFIG = { 'repl-diskless-sync-delay': 0 };

/** The Compose services of the cluster's three primaries with their ports, as `service:port` words for a loop. */
const NODES = 'node1:{{clusterPort1}} node2:{{clusterPort2}} node3:{{clusterPort3}}';
/** Shell: `redis-cli` on the host. */
const HOST_CLI = 'redis-cli';
/** Shell: `redis-cli` in a Compose service (reaching any node: they run on the host's network). */
const inService = (service: string) => `docker compose exec -T ${service} redis-cli`;
/** Shell: a Compose service and its port from a {@link NODES} word in `$node`. */
const SPLIT_NODE = 'service=${node%:*} port=${node#*:}';

/** Shell: each primary's key count, on the host and in the Compose services. */
const HOST_COUNTS = `for port in ${PORTS}; do echo "node $port: $(redis-cli -p "$port" DBSIZE) keys"; done`;
const COMPOSE_COUNTS = `for node in ${NODES}; do ${SPLIT_NODE}; echo "node $port: $(docker compose exec -T "$service" redis-cli -p "$port" DBSIZE) keys"; done`;
/** Shell: how many of key:1 … key:1000 still have a TTL, through the cluster. */
const withTtl = (cli = HOST_CLI) =>
  `echo "keys with a TTL: $(seq 1 ${KEYS} | sed 's/.*/PTTL key:&/' | ${cli} -c -p {{clusterPort1}} | grep -c '^[1-9]')"`;

/** Shell: stops a Compose service, runs `command` in a throwaway container of the image with `mounts` (its volume among them), starts the service again. */
const whileStopped = (service: string, mounts: string, command: string) => [
  `docker compose stop ${service}`,
  `docker run --rm --network none ${mounts} {{image}} ${command}`,
  `docker compose start ${service}`,
];

/** Shell: how many of key:1 … key:1000 the cluster answers for, following its redirects (`redis-cli -c`). */
const reachable = (port: string, cli = HOST_CLI) =>
  `echo "keys reachable through the cluster: $(seq 1 ${KEYS} | sed 's/.*/EXISTS key:&/' | ${cli} -c -p ${port} | grep -c '^1$')"`;
/** Shell: sets `dir` and `conf` to the node's data dir and config file, as the node reports them. */
const locate = (port: string, suffix = '') => [
  `dir${suffix}=$(redis-cli -p ${port} CONFIG GET dir | tail -n 1)`,
  `conf${suffix}=$(redis-cli -p ${port} INFO server | sed -n 's/^config_file://p' | tr -d '\\r')`,
];
/** Shell: stops a node without a save and waits until it is gone. */
const stop = (port: string) => [`redis-cli -p ${port} SHUTDOWN NOSAVE`, waitWhile(`redis-cli -p ${port} PING >/dev/null 2>&1`)];
/** Shell: starts a node as its service would (here: its config file, in the background), and waits until it answers. */
const start = (port: string, suffix = '') => [
  `redis-server "$conf${suffix}" --daemonize yes --pidfile "$dir${suffix}/redis.pid"`,
  waitUntil(`redis-cli -p ${port} PING 2>/dev/null | grep -q PONG`),
];
/** Shell: `--cluster check`, its exit code, and its verdict lines only (the open-slot lists run to thousands of numbers). */
const check = (port: string, cli = HOST_CLI) => [
  `report=$(${cli} --cluster check 127.0.0.1:${port}); echo "cluster check exit code: $?"`,
  `echo "$report" | grep -E '^\\[(OK|WARNING|ERR)\\]' | cut -c 1-100`,
];

/** The CLI as an operator runs it (`bin/redis-playbook`). */
const CLI = fileURLToPath(new URL('../../../bin/redis-playbook', import.meta.url));

/** Keys that get a TTL in the cluster a backup is taken of (key:1 … key:100, an hour). */
const TTL_KEYS = 100;

/**
 * A cluster backup to restore: a 4-primary cluster of the engine filled with key:1 … key:1000 (the
 * first 100 with an hour's TTL), backed up with `redis-playbook backup --cluster`, then removed.
 */
async function clusterBackupOf4(scratch: string, engine: Engine): Promise<string> {
  await using source = await startCluster({ engine, primaries: 4, config: NODE_CONFIG });
  const cluster = new ClusterView(source.primaries);
  await fill(cluster);
  const ttl = Array.from({ length: TTL_KEYS }, (_, i) => `EXPIRE key:${i + 1} 3600`).join('\n');
  assert.match((await exec(engine.cli, ['-c', '-p', String(cluster.seed.port)], { input: `${ttl}\n` })).stdout, /^1$/m);
  const to = join(scratch, 'source-backups');
  const made = await exec(CLI, ['backup', '--cluster', '--url', source.url, '--to', to, '--server', engine.server, '--json'], {
    reject: false,
  });
  assert.equal(made.exitCode, 0, made.stderr);
  return (JSON.parse(made.stdout) as { path: string }).path;
}

/** Fills the cluster with key:1 … key:1000, each key piped (`redis-cli --pipe`) to the primary owning its slot. */
async function fill(cluster: ClusterView): Promise<void> {
  const slots = await keySlots(cluster);
  for (const primary of await cluster.primaries()) {
    const mine = slots.flatMap((slot, i) => (owns(primary.slots, slot) ? [`SET key:${i + 1} v${i + 1}`] : []));
    const piped = await primary.server.cli(['--pipe'], { input: `${mine.join('\n')}\n` });
    assert.equal(piped.exitCode, 0, piped.stderr);
    assert.match(piped.stdout, new RegExp(`errors: 0, replies: ${mine.length}`));
  }
}

/** A `prepare` that only fills the cluster. */
async function filled(cluster: PracticeCluster): Promise<Record<string, string>> {
  await fill(cluster);
  return {};
}

/** A standalone server's snapshot of key:1 … key:1000 as `{{backup}}/dump.rdb` (what a single server's backup holds). */
async function standaloneBackup(scratch: string, engine: Engine): Promise<string> {
  await using standalone = await startRedis({ config: { appendonly: 'no', save: '""' } }, engine);
  const input = Array.from({ length: KEYS }, (_, i) => `SET key:${i + 1} v${i + 1}`).join('\n');
  assert.equal((await standalone.cli(['--pipe'], { input: `${input}\n` })).exitCode, 0);
  assert.equal((await standalone.cli(['SAVE'])).stdout.trim(), 'OK');
  const backup = join(scratch, 'backup');
  await mkdir(backup, { recursive: true });
  await copyFile(join(standalone.dir, 'dump.rdb'), join(backup, 'dump.rdb'));
  return backup;
}

/** Per node: a fresh snapshot and its nodes.conf copied into `dir/<port>/` (the layout of the safe backup block). */
async function perNodeBackup(cluster: PracticeCluster, dir: string): Promise<void> {
  for (const node of cluster.nodes) {
    assert.equal((await node.cli(['SAVE'])).stdout.trim(), 'OK');
    await mkdir(join(dir, String(node.port)), { recursive: true });
    for (const file of ['dump.rdb', 'nodes.conf']) await node.copyOut(file, join(dir, String(node.port), file));
  }
}

/** What a block does to its practice cluster before the command runs; returns placeholder values. */
type Prepare = (cluster: PracticeCluster, scratch: string, engine: Engine, defer: ValuesContext['defer']) => Promise<PlaceholderValues>;

/**
 * The placeholder values of a cluster block: starts a 3-primary cluster of the engine (disposed
 * after the run), runs `prepare` on it, and fills the ports and dirs of its nodes.
 */
function practiceValues(
  prepare: Prepare | undefined,
  flavor: 'host' | 'docker',
): ValuesFn<unknown, PlaceholderValues & Record<ClusterKey | 'backupDir', string>> {
  return async (ctx) => {
    const { cluster, project } =
      flavor === 'host'
        ? { cluster: await startHostPractice(ctx, NODE_CONFIG), project: undefined }
        : await startComposePractice(ctx, NODE_CONFIG);
    const extra =
      (await prepare?.(cluster, ctx.scratch, ctx.engine, (dispose) => {
        ctx.defer(dispose);
      })) ?? {};
    return { backupDir: join(ctx.scratch, 'backups'), ...(project ? { project } : {}), ...extra, ...clusterValues(cluster.nodes) };
  };
}

/** What a cluster block's check gets: the command's result, the cluster, its primaries as they were before the command, the context. */
interface ClusterRun {
  result: CommandResult;
  cluster: ClusterView;
  before: ClusterPrimary[];
  ctx: VerifyContext<unknown, ClusterKey | 'backupDir'>;
}

/** A host flavor on a practice cluster: the command runs against its nodes, `check` asserts, the cluster goes afterwards. */
function clusterFlavors(
  command: string | { host: string; docker: string },
  check: (run: ClusterRun) => Promise<void> | void,
  { prepare, variants = [] }: { prepare?: Prepare; variants?: Variant[] } = {},
): SnippetInput['flavors'] {
  const flavors = sameCheck<ClusterKey | 'backupDir'>(
    {
      timeoutMs: 90_000,
      async verify(ctx) {
        const cluster = clusterOf(ctx);
        await ctx.identify({ host: '127.0.0.1', port: cluster.seed.port });
        const before = await cluster.primaries();
        // TERM=dumb: redis-cli --cluster colours its output on an xterm; the page records plain text.
        const result = await ctx.run({ env: { TERM: 'dumb' } });
        await check({ result, cluster, before, ctx });
      },
    },
    {
      host: {
        command: typeof command === 'string' ? command : command.host,
        variants,
        server: false,
        values: practiceValues(prepare, 'host'),
      },
      docker: {
        command: typeof command === 'string' ? command : command.docker,
        variants,
        server: false,
        values: practiceValues(prepare, 'docker'),
      },
    },
  );
  // A block whose command is the same everywhere stays on the host: its Docker flavor would be the host's.
  return typeof command === 'string' ? { host: flavors.host } : flavors;
}

/** The slot of each key:N (`CLUSTER KEYSLOT`, asked of the cluster itself), in key order. */
async function keySlots(cluster: ClusterView): Promise<number[]> {
  const input = Array.from({ length: KEYS }, (_, i) => `CLUSTER KEYSLOT key:${i + 1}`).join('\n');
  const { stdout } = await cluster.seed.cli([], { input });
  const slots = stdout.trim().split('\n').map(Number);
  assert.equal(slots.length, KEYS);
  return slots;
}

/** Whether `slot` is in one of the ranges (`0-5460`, `5461`). */
function owns(ranges: string[], slot: number): boolean {
  return ranges.some((range) => {
    const [from, to = from] = range.split('-').map(Number) as [number, number?];
    return slot >= from && slot <= to;
  });
}

/** The exit code `--cluster check` reported in the output. */
const checkExit = (stdout: string) => labelledNumber(stdout, 'cluster check exit code');

/** Docker: each node's id, keys and data dir, asked in its own service; its volume's files and its nodes.conf line. */
const DOCKER_WHERE = [
  `for node in ${NODES}; do`,
  `  ${SPLIT_NODE}`,
  '  cli="docker compose exec -T $service redis-cli -p $port"',
  '  echo "node $port: id $($cli CLUSTER MYID), $($cli DBSIZE) keys, dir $($cli CONFIG GET dir | tail -n 1)"',
  '  docker compose exec -T "$service" ls /data',
  '  docker compose exec -T "$service" grep myself /data/nodes.conf | cut -d \' \' -f 1,3,9-',
  'done',
  '# The volumes that hold those dirs',
  "docker volume ls --filter label=com.docker.compose.project={{project}} --format '{{.Name}}'",
].join('\n');

/** Docker: the standalone dump.rdb put into the first node's volume while it is stopped. */
const DOCKER_TRAP = [
  '# Stop the first node, put the standalone backup in its volume, start it again',
  ...whileStopped('node1', '-v {{project}}_node1-data:/data -v {{backup}}:/backup:ro', 'cp /backup/dump.rdb /data/dump.rdb'),
  waitUntil(`${inService('node1')} -p {{clusterPort1}} CLUSTER INFO 2>/dev/null | grep -q cluster_state:ok`),
  '# What it did with the keys of slots it does not own',
  'docker compose logs node1 | grep -m 1 -o "I have keys for slot.*"',
  `echo "keys in the backup: ${KEYS}, keys on the node: $(${inService('node1')} -p {{clusterPort1}} DBSIZE)"`,
  reachable('{{clusterPort1}}', inService('node1')),
  ...check('{{clusterPort1}}', inService('node1')),
].join('\n');

/** Docker: the second node's volume gets the first node's nodes.conf while it is stopped. */
const DOCKER_COPIED = [
  "# The second node's files restored, but with the first node's nodes.conf",
  ...whileStopped('node2', '-v {{project}}_node1-data:/from:ro -v {{project}}_node2-data:/data', 'cp /from/nodes.conf /data/nodes.conf'),
  waitUntil(`${inService('node2')} -p {{clusterPort2}} PING 2>/dev/null | grep -q PONG`),
  `echo "node {{clusterPort1}} says it is $(${inService('node1')} -p {{clusterPort1}} CLUSTER MYID)"`,
  `echo "node {{clusterPort2}} says it is $(${inService('node2')} -p {{clusterPort2}} CLUSTER MYID)"`,
  ...check('{{clusterPort1}}', inService('node1')),
].join('\n');

/** Docker: every service stopped, each volume gets its node's own RDB and nodes.conf, every service started. */
const DOCKER_OFFLINE = [
  `ports=(${PORTS})`,
  '# 1. Stop every node',
  'docker compose stop',
  "# 2. Each node's own RDB and its own nodes.conf back into its own volume",
  'for i in 1 2 3; do',
  '  docker run --rm --network none -v {{project}}_node$i-data:/data -v {{backupDir}}/${ports[i-1]}:/backup:ro {{image}} \\',
  '    cp /backup/dump.rdb /backup/nodes.conf /data/',
  'done',
  '# 3. Start every node, and wait until the cluster is up',
  'docker compose start',
  `for i in 1 2 3; do ${waitUntil('docker compose exec -T node$i redis-cli -p ${ports[i-1]} CLUSTER INFO 2>/dev/null | grep -q cluster_state:ok')}; done`,
  '# 4. Check',
  'for i in 1 2 3; do',
  '  cli="docker compose exec -T node$i redis-cli -p ${ports[i-1]}"',
  '  echo "node ${ports[i-1]}: $($cli CLUSTER MYID), $($cli DBSIZE) keys"',
  'done',
  ...check('{{clusterPort1}}', inService('node1')),
  reachable('{{clusterPort1}}', inService('node1')),
].join('\n');

/** Docker: `redis-cli --cluster backup` in the first node's container, its files copied out to the host. */
const DOCKER_BACKUP_TOOL = [
  'docker compose exec -T node1 mkdir -p /tmp/cluster-backup',
  'docker compose exec -T node1 redis-cli --cluster backup 127.0.0.1:{{clusterPort1}} /tmp/cluster-backup | tail -n 1',
  '# Out of the container, onto the host',
  'mkdir -p {{backupDir}} && docker compose --progress quiet cp node1:/tmp/cluster-backup/. {{backupDir}}/',
  'ls {{backupDir}}',
  '# Its restore counterpart',
  `${inService('node1')} --cluster help 2>&1 | grep -i restore || echo "redis-cli --cluster has no restore command"`,
].join('\n');

/** Docker: a throwaway standalone container on the backup (host network, read-only), imported through the first node's container. */
const DOCKER_IMPORT = [
  '# A throwaway standalone server on the backup, read-only, on the host network like the nodes',
  'mkdir -p {{scratchDir}}',
  'docker run -d --rm --name standalone-{{scratchPort}} --network host -v {{backup}}:/backup:ro {{image}} \\',
  '  redis-server --port {{scratchPort}} --bind 127.0.0.1 --dir /backup --save "" --appendonly no >/dev/null',
  waitUntil(`${inService('node1')} -p {{scratchPort}} PING 2>/dev/null | grep -q PONG`),
  `echo "keys in the backup: $(${inService('node1')} -p {{scratchPort}} DBSIZE)"`,
  '# Each key copied to the primary that owns its slot',
  `${inService('node1')} --cluster import 127.0.0.1:{{clusterPort1}} --cluster-from 127.0.0.1:{{scratchPort}} --cluster-copy > {{scratchDir}}/import.log`,
  'echo "import exit code: $?, keys copied: $(grep -c \': OK$\' {{scratchDir}}/import.log)"',
  COMPOSE_COUNTS,
  reachable('{{clusterPort1}}', inService('node1')),
  '# Again, now that the keys exist: without --cluster-replace it stops at the first one',
  `${inService('node1')} --cluster import 127.0.0.1:{{clusterPort1}} --cluster-from 127.0.0.1:{{scratchPort}} --cluster-copy > {{scratchDir}}/again.log`,
  'echo "without --cluster-replace: exit code $?, $(grep -m 1 -o \'BUSYKEY.*\' {{scratchDir}}/again.log)"',
  `${inService('node1')} --cluster import 127.0.0.1:{{clusterPort1}} --cluster-from 127.0.0.1:{{scratchPort}} --cluster-copy --cluster-replace > {{scratchDir}}/replace.log`,
  'echo "with --cluster-replace: exit code $?, keys copied: $(grep -c \': OK$\' {{scratchDir}}/replace.log)"',
  'docker stop standalone-{{scratchPort}} >/dev/null',
].join('\n');

/** Docker: BGSAVE in each service, then each node's RDB and nodes.conf copied out of its container. */
const DOCKER_BACKUP_SAFE = [
  '# 1. A snapshot on every primary, one after the other: each one is of the moment its BGSAVE forks',
  'start=$(date +%s%3N)',
  `for node in ${NODES}; do ${SPLIT_NODE}; docker compose exec -T "$service" redis-cli -p "$port" BGSAVE >/dev/null; done`,
  'echo "time between the first and the last fork: $(( $(date +%s%3N) - start )) ms"',
  '# 2. Wait for each, then copy its RDB, its nodes.conf and its id and slots out of its container',
  `for node in ${NODES}; do`,
  `  ${SPLIT_NODE}`,
  '  cli="docker compose exec -T $service redis-cli -p $port"',
  `  ${waitWhile("$cli INFO persistence | grep -q 'rdb_bgsave_in_progress:1'")}`,
  '  $cli INFO persistence | grep -q \'rdb_last_bgsave_status:ok\' || { echo "BGSAVE failed on $port"; exit 1; }',
  '  mkdir -p {{backupDir}}/"$port"',
  '  for file in dump.rdb nodes.conf; do docker compose --progress quiet cp "$service":/data/"$file" {{backupDir}}/"$port"/; done',
  '  $cli CLUSTER NODES | grep myself | cut -d \' \' -f 1,9- > {{backupDir}}/"$port"/slots',
  '  echo "node $port: $(cat {{backupDir}}/"$port"/slots), $(stat -c %s {{backupDir}}/"$port"/dump.rdb) bytes"',
  'done',
].join('\n');

/** Docker: `backup --cluster` through the nodes' Compose services (their data dirs are in the containers). */
const DOCKER_BACKUP_CLI = [
  'redis-playbook backup --cluster --url redis://127.0.0.1:{{clusterPort1}} --compose-service node1,node2,node3 --to {{backupDir}}',
  'redis-playbook check "$(ls -d {{backupDir}}/*-cluster | tail -n 1)" | tail -n 1',
].join('\n');

/** Docker: the restore writes through the nodes' loopback ports (host network); the counts are asked in the services. */
const DOCKER_RESTORE_INTO = [
  'redis-playbook restore {{backup}} --into-cluster redis://127.0.0.1:{{clusterPort1}} | head -n 1',
  COMPOSE_COUNTS,
  reachable('{{clusterPort1}}', inService('node1')),
  withTtl(inService('node1')),
].join('\n');

/** Shell: `cd` into the practice dir (a Compose project there takes its name from the dir). */
const INTO_PRACTICE = 'mkdir -p {{scratchDir}} && cd {{scratchDir}}';
/** Shell: the new cluster's verdict, then the state of the cluster as its first node sees it. */
const formed = (cli: string) => [
  waitUntil(`${cli} -p {{clusterPort1}} CLUSTER INFO 2>/dev/null | grep -q cluster_state:ok`),
  `${cli} -p {{clusterPort1}} CLUSTER INFO | grep -E '^cluster_(state|slots_assigned|known_nodes):' | tr -d '\\r'`,
];
/** Shell: `redis-cli --cluster create` over the three ports, no replicas, without its prompt; its last line is the verdict. */
const create = (cli: string) =>
  `${cli} --cluster create 127.0.0.1:{{clusterPort1}} 127.0.0.1:{{clusterPort2}} 127.0.0.1:{{clusterPort3}} --cluster-replicas 0 --cluster-yes | tail -n 1`;

/** Host: three daemonized cluster-enabled servers in dirs of their own under the practice dir, made one cluster. */
const HOST_PRACTICE = [
  INTO_PRACTICE,
  `for port in ${PORTS}; do`,
  '  mkdir -p "$port"',
  '  redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \\',
  '    --dir "$PWD/$port" --daemonize yes --pidfile "$PWD/$port.pid" --logfile "$PWD/$port.log"',
  `  ${waitUntil('redis-cli -p "$port" PING 2>/dev/null | grep -q PONG')}`,
  'done',
  create(HOST_CLI),
  ...formed(HOST_CLI),
  '# Each node keeps its nodes.conf in its own dir',
  `for port in ${PORTS}; do echo "$PWD/$port: $(ls "$port")"; done`,
].join('\n');

/** Docker: the compose file of three services with host networking and a volume each, `up -d`, made one cluster through the first. */
const DOCKER_PRACTICE = [
  INTO_PRACTICE,
  "cat > docker-compose.yml <<'EOF'",
  'services:',
  ...NUMBERS.flatMap((n) => [
    `  node${n}:`,
    '    image: {{image}}',
    '    network_mode: host',
    `    command: redis-server --port {{clusterPort${n}}} --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf`,
    `    volumes: [node${n}-data:/data]`,
  ]),
  'volumes:',
  ...NUMBERS.map((n) => `  node${n}-data:`),
  'EOF',
  'docker compose --progress quiet up -d',
  `for node in ${NODES}; do ${SPLIT_NODE}; ${waitUntil('docker compose exec -T "$service" redis-cli -p "$port" PING 2>/dev/null | grep -q PONG')}; done`,
  create(inService('node1')),
  ...formed(inService('node1')),
  '# Each node keeps its nodes.conf in its own volume, at /data',
  'for service in node1 node2 node3; do echo "$service /data: $(docker compose exec -T "$service" ls /data)"; done',
].join('\n');

export const redisClusterSnippets = [
  defineSnippet({
    id: 'cluster-practice',
    title: 'Start a practice cluster of three primaries, to rehearse the drills on',
    page,
    flavors: sameCheck<ClusterKey | 'scratchDir'>(
      {
        timeoutMs: 90_000,
        async verify(ctx) {
          // TERM=dumb: redis-cli --cluster colours its output on an xterm; the page records plain text.
          const result = await ctx.run({ env: { TERM: 'dumb' } });
          assert.equal(result.exitCode, 0, result.all);
          assert.match(result.stdout, /^\[OK\] All 16384 slots covered\.$/m);
          assert.match(result.stdout, /^cluster_state:ok$/m);
          assert.match(result.stdout, /^cluster_slots_assigned:16384$/m);
          assert.match(result.stdout, /^cluster_known_nodes:3$/m);
          assert.equal(result.stdout.match(/: nodes\.conf$/gm)?.length, 3, "a nodes.conf in each node's own dir");
          // What the command started is one cluster: three primaries, each with its own id and a share of the slots.
          const cluster = clusterOf(ctx);
          await ctx.identify({ host: '127.0.0.1', port: cluster.seed.port });
          const primaries = await cluster.primaries();
          assert.equal(new Set(primaries.map((primary) => primary.id)).size, 3, 'three nodes, three ids');
          for (const primary of primaries) assert.ok(primary.slots.length > 0, `node ${primary.server.port} owns slots`);
        },
      },
      {
        host: { command: HOST_PRACTICE, server: false, values: ownPracticeValues('host') },
        docker: { command: DOCKER_PRACTICE, server: false, values: ownPracticeValues('docker') },
      },
    ),
  }),
  defineSnippet({
    id: 'cluster-where-data-lives',
    title: "Each node's id, keys, data dir, and its line in its own nodes.conf",
    page,
    flavors: clusterFlavors(
      {
        docker: DOCKER_WHERE,
        host: [
          `for port in ${PORTS}; do`,
          '  dir=$(redis-cli -p "$port" CONFIG GET dir | tail -n 1)',
          '  echo "node $port: id $(redis-cli -p "$port" CLUSTER MYID), $(redis-cli -p "$port" DBSIZE) keys, dir $dir"',
          '  ls "$dir"',
          '  grep myself "$dir/nodes.conf" | cut -d \' \' -f 1,3,9-',
          'done',
        ].join('\n'),
      },
      ({ result, before, ctx }) => {
        assert.equal(result.exitCode, 0, result.all);
        let total = 0;
        before.forEach((primary, i) => {
          const line = new RegExp(`^node ${primary.server.port}: id ${primary.id}, (\\d+) keys, dir (.+)$`, 'm').exec(result.stdout);
          assert.ok(line, `a line for node ${primary.server.port} with its id in:\n${result.stdout}`);
          assert.equal(line[2], primary.server.dir);
          const keys = Number(line[1]);
          assert.ok(keys > 0, 'every primary holds some of the keys');
          total += keys;
          ctx.measure(`keys${i + 1}`, keys);
          assert.ok(
            result.stdout.includes(`${primary.id} myself,master ${primary.slots.join(' ')}`),
            `node ${primary.server.port}'s own nodes.conf line names it and its slots ${primary.slots.join(' ')}`,
          );
          ctx.measure(
            `slots${i + 1}`,
            primary.slots.reduce((sum, range) => sum + (Number(range.split('-')[1] ?? range) - Number(range.split('-')[0]) + 1), 0),
          );
        });
        assert.equal(total, KEYS, 'the primaries hold every key once between them');
        assert.equal(result.stdout.match(/^dump\.rdb$/gm)?.length, 3, 'a dump.rdb in each dir');
        assert.equal(result.stdout.match(/^nodes\.conf$/gm)?.length, 3, 'a nodes.conf in each dir');
      },
      {
        prepare: async (cluster) => {
          await fill(cluster);
          for (const node of cluster.nodes) assert.equal((await node.cli(['SAVE'])).stdout.trim(), 'OK');
          return {};
        },
      },
    ),
  }),
  defineSnippet({
    id: 'cluster-standalone-rdb-trap',
    title: "Drill: a standalone server's dump.rdb put into one primary's dir",
    page,
    flavors: clusterFlavors(
      {
        docker: DOCKER_TRAP,
        host: [
          '# Where the first primary keeps its files, and its config file',
          ...locate('{{clusterPort1}}'),
          '# Stop it, put the standalone backup in its dir, start it again',
          ...stop('{{clusterPort1}}'),
          'cp {{backup}}/dump.rdb "$dir/dump.rdb"',
          ...start('{{clusterPort1}}'),
          waitUntil('redis-cli -p {{clusterPort1}} CLUSTER INFO | grep -q cluster_state:ok'),
          '# What it did with the keys of slots it does not own',
          'grep -m 1 -o "I have keys for slot.*" "$(redis-cli -p {{clusterPort1}} CONFIG GET logfile | tail -n 1)"',
          `echo "keys in the backup: ${KEYS}, keys on the node: $(redis-cli -p {{clusterPort1}} DBSIZE)"`,
          reachable('{{clusterPort1}}'),
          ...check('{{clusterPort1}}'),
        ].join('\n'),
      },
      async ({ result, cluster, before, ctx }) => {
        assert.equal(result.exitCode, 0, result.all);
        const [first] = before;
        assert.ok(first, 'the first primary');
        const own = (await keySlots(cluster)).filter((slot) => owns(first.slots, slot)).length;
        const onNode = labelledNumber(result.stdout, 'keys on the node');
        const reached = labelledNumber(result.stdout, 'keys reachable through the cluster');
        assert.equal(reached, own, 'only the keys of its own slots are reachable');
        assert.ok(reached < KEYS, 'keys are lost');
        ctx.measure('keysInBackup', KEYS);
        ctx.measure('reachable', reached);
        ctx.measure('unreachable', KEYS - reached);
        ctx.measure('keysOnNode', onNode);
        if (engineTraits(ctx.engine.id).clusterUnownedKeys === 'importing') {
          assert.match(result.stdout, /but the slot is assigned to another node\. Setting it to importing state\./);
          assert.equal(onNode, KEYS, 'it keeps every key, reachable or not');
          assert.equal(checkExit(result.stdout), 1);
          assert.match(result.stdout, /^\[WARNING\] Node 127\.0\.0\.1:\d+ has slots in importing state/m);
        } else {
          assert.match(result.stdout, /but the slot is assigned to another node\. Deleting keys in the slot\./);
          assert.equal(onNode, own, 'it deleted the keys of slots it does not own');
          assert.equal(checkExit(result.stdout), 0, 'the check sees nothing wrong');
          assert.match(result.stdout, /^\[OK\] All 16384 slots covered\./m);
        }
      },
      {
        prepare: async (_cluster, scratch, engine) => ({ backup: await standaloneBackup(scratch, engine) }),
        variants: [
          engineVariant(
            (traits) => traits.clusterUnownedKeys === 'importing',
            'the node keeps the keys of slots it does not own ("Setting it to importing state"): DBSIZE counts all of them, they stay unreachable, and --cluster check exits 1 on the open slots.',
          ),
        ],
      },
    ),
  }),
  defineSnippet({
    id: 'cluster-import-standalone',
    title: 'Load a standalone backup into a cluster with redis-cli --cluster import',
    page,
    flavors: clusterFlavors(
      {
        docker: DOCKER_IMPORT,
        host: [
          '# A throwaway standalone server on a copy of the backup',
          'mkdir -p {{scratchDir}} && cp {{backup}}/dump.rdb {{scratchDir}}/',
          'redis-server --port {{scratchPort}} --bind 127.0.0.1 --dir {{scratchDir}} --save "" --appendonly no \\',
          '  --daemonize yes --pidfile {{scratchDir}}/redis.pid --logfile {{scratchDir}}/redis.log',
          waitUntil('redis-cli -p {{scratchPort}} PING 2>/dev/null | grep -q PONG'),
          'echo "keys in the backup: $(redis-cli -p {{scratchPort}} DBSIZE)"',
          '# Each key copied to the primary that owns its slot',
          'redis-cli --cluster import 127.0.0.1:{{clusterPort1}} --cluster-from 127.0.0.1:{{scratchPort}} --cluster-copy > {{scratchDir}}/import.log',
          'echo "import exit code: $?, keys copied: $(grep -c \': OK$\' {{scratchDir}}/import.log)"',
          HOST_COUNTS,
          reachable('{{clusterPort1}}'),
          '# Again, now that the keys exist: without --cluster-replace it stops at the first one',
          'redis-cli --cluster import 127.0.0.1:{{clusterPort1}} --cluster-from 127.0.0.1:{{scratchPort}} --cluster-copy > {{scratchDir}}/again.log',
          'echo "without --cluster-replace: exit code $?, $(grep -m 1 -o \'BUSYKEY.*\' {{scratchDir}}/again.log)"',
          'redis-cli --cluster import 127.0.0.1:{{clusterPort1}} --cluster-from 127.0.0.1:{{scratchPort}} --cluster-copy --cluster-replace > {{scratchDir}}/replace.log',
          'echo "with --cluster-replace: exit code $?, keys copied: $(grep -c \': OK$\' {{scratchDir}}/replace.log)"',
          'redis-cli -p {{scratchPort}} SHUTDOWN NOSAVE',
        ].join('\n'),
      },
      async ({ result, cluster, ctx }) => {
        assert.equal(result.exitCode, 0, result.all);
        assert.equal(labelledNumber(result.stdout, 'keys in the backup'), KEYS);
        assert.match(result.stdout, /^import exit code: 0, keys copied: 1000$/m);
        const counts = await Promise.all(
          cluster.nodes.map(async (node) => ({ port: node.port, keys: Number((await node.cli(['DBSIZE'])).stdout.trim()) })),
        );
        assert.equal(
          counts.reduce((sum, node) => sum + node.keys, 0),
          KEYS,
          'every key on exactly one primary',
        );
        for (const { port, keys } of counts) {
          assert.ok(keys > 0, 'each primary got the keys of its slots');
          assert.match(result.stdout, new RegExp(`^node ${port}: ${keys} keys$`, 'm'));
        }
        assert.equal(labelledNumber(result.stdout, 'keys reachable through the cluster'), KEYS);
        assert.match(result.stdout, /^without --cluster-replace: exit code 1, BUSYKEY/m);
        assert.match(result.stdout, /^with --cluster-replace: exit code 0, keys copied: 1000$/m);
        ctx.measure('reachable', KEYS);
        counts.forEach((node, i) => {
          ctx.measure(`keys${i + 1}`, node.keys);
        });
      },
      {
        prepare: async (_cluster, scratch, engine, defer) => {
          const scratchDir = join(scratch, 'standalone');
          const scratchPort = String(await freePort());
          // The command starts its own standalone server (a daemon there, or a container named by its port): it goes after the run, whatever happened.
          defer(async () => {
            await killPidFiles(scratchDir);
            await dockerTry(['rm', '--force', `standalone-${scratchPort}`]);
          });
          return { backup: await standaloneBackup(scratch, engine), scratchDir, scratchPort };
        },
      },
    ),
  }),
  defineSnippet({
    id: 'cluster-copied-nodes-conf',
    title: "Drill: a node restored with another node's nodes.conf",
    page,
    flavors: clusterFlavors(
      {
        docker: DOCKER_COPIED,
        host: [
          ...locate('{{clusterPort1}}', '1'),
          ...locate('{{clusterPort2}}', '2'),
          "# The second node's files restored, but with the first node's nodes.conf",
          ...stop('{{clusterPort2}}'),
          'cp "$dir1/nodes.conf" "$dir2/nodes.conf"',
          ...start('{{clusterPort2}}', '2'),
          'echo "node {{clusterPort1}} says it is $(redis-cli -p {{clusterPort1}} CLUSTER MYID)"',
          'echo "node {{clusterPort2}} says it is $(redis-cli -p {{clusterPort2}} CLUSTER MYID)"',
          ...check('{{clusterPort1}}'),
        ].join('\n'),
      },
      ({ result, before, ctx }) => {
        assert.equal(result.exitCode, 0, result.all);
        const [first, second] = before as [ClusterPrimary, ClusterPrimary];
        assert.match(result.stdout, new RegExp(`^node ${first.server.port} says it is ${first.id}$`, 'm'));
        assert.match(
          result.stdout,
          new RegExp(`^node ${second.server.port} says it is ${first.id}$`, 'm'),
          "the second node took the first node's identity",
        );
        assert.equal(checkExit(result.stdout), 1);
        assert.match(result.stdout, /^\[ERR\] Not all 16384 slots are covered by nodes\.$/m);
        ctx.measure(
          'uncoveredSlots',
          second.slots.reduce((sum, range) => sum + (Number(range.split('-')[1] ?? range) - Number(range.split('-')[0]) + 1), 0),
        );
      },
      { prepare: filled },
    ),
  }),
  defineSnippet({
    id: 'cluster-offline-restore',
    title: "Offline restore of the same cluster: each node's RDB and its own nodes.conf",
    page,
    flavors: clusterFlavors(
      {
        docker: DOCKER_OFFLINE,
        host: [
          `ports="${PORTS}"`,
          'declare -A dir conf',
          'for port in $ports; do',
          '  dir[$port]=$(redis-cli -p "$port" CONFIG GET dir | tail -n 1)',
          "  conf[$port]=$(redis-cli -p \"$port\" INFO server | sed -n 's/^config_file://p' | tr -d '\\r')",
          'done',
          '# 1. Stop every node',
          'for port in $ports; do redis-cli -p "$port" SHUTDOWN NOSAVE; done',
          `for port in $ports; do ${waitWhile('redis-cli -p "$port" PING >/dev/null 2>&1')}; done`,
          "# 2. Each node's own RDB and its own nodes.conf back into its own dir",
          'for port in $ports; do cp {{backupDir}}/"$port"/dump.rdb {{backupDir}}/"$port"/nodes.conf "${dir[$port]}/"; done',
          '# 3. Start every node, and wait until the cluster is up',
          'for port in $ports; do redis-server "${conf[$port]}" --daemonize yes --pidfile "${dir[$port]}/redis.pid"; done',
          `for port in $ports; do ${waitUntil('redis-cli -p "$port" CLUSTER INFO 2>/dev/null | grep -q cluster_state:ok')}; done`,
          '# 4. Check',
          `for port in $ports; do echo "node $port: $(redis-cli -p "$port" CLUSTER MYID), $(redis-cli -p "$port" DBSIZE) keys"; done`,
          ...check('{{clusterPort1}}'),
          reachable('{{clusterPort1}}'),
        ].join('\n'),
      },
      async ({ result, before, ctx }) => {
        assert.equal(result.exitCode, 0, result.all);
        for (const { server } of before) {
          // The id its own nodes.conf in the backup gives it (the second node ran under the first one's before).
          const saved = await readFile(join(ctx.values.backupDir, String(server.port), 'nodes.conf'), 'utf8');
          const id = saved
            .split('\n')
            .find((line) => line.includes('myself'))
            ?.split(' ')[0];
          assert.match(
            result.stdout,
            new RegExp(`^node ${server.port}: ${id}, [1-9]\\d* keys$`, 'm'),
            `node ${server.port} is itself again`,
          );
        }
        assert.equal(checkExit(result.stdout), 0);
        assert.match(result.stdout, /^\[OK\] All 16384 slots covered\.$/m);
        assert.equal(labelledNumber(result.stdout, 'keys reachable through the cluster'), KEYS);
        ctx.measure('reachable', KEYS);
      },
      {
        prepare: async (cluster, scratch) => {
          await fill(cluster);
          const backups = join(scratch, 'backups');
          await perNodeBackup(cluster, backups);
          // What the restore repairs: every key gone, and the second node running on the first node's nodes.conf.
          for (const node of cluster.nodes) assert.equal((await node.cli(['FLUSHALL'])).stdout.trim(), 'OK');
          const [first, second] = cluster.nodes;
          assert.ok(first && second, 'two nodes');
          await first.copyOut('nodes.conf', join(scratch, 'first-nodes.conf'));
          await second.replaceFile('nodes.conf', join(scratch, 'first-nodes.conf'));
          return { backupDir: backups };
        },
      },
    ),
  }),
  defineSnippet({
    id: 'cluster-backup-tool',
    title: 'redis-cli --cluster backup: what it writes',
    page,
    flavors: clusterFlavors(
      {
        docker: DOCKER_BACKUP_TOOL,
        host: [
          'mkdir -p {{backupDir}}',
          'redis-cli --cluster backup 127.0.0.1:{{clusterPort1}} {{backupDir}} | tail -n 1',
          'ls {{backupDir}}',
          '# Its restore counterpart',
          'redis-cli --cluster help 2>&1 | grep -i restore || echo "redis-cli --cluster has no restore command"',
        ].join('\n'),
      },
      async ({ result, before, ctx }) => {
        assert.equal(result.exitCode, 0, result.all);
        assert.match(result.stdout, /\[OK\] Backup created into: /);
        const dir = ctx.values.backupDir;
        const files = (await readdir(dir)).sort();
        const expected = [
          ...before.map((primary) => `${ctx.engine.product}-node-127.0.0.1-${primary.server.port}-${primary.id}.rdb`),
          'nodes.json',
        ].sort();
        assert.deepEqual(
          files,
          expected,
          'one RDB per primary, named by the product, address and id (valkey-cli: valkey-node-…), and nodes.json',
        );
        const nodes = JSON.parse(await readFile(join(dir, 'nodes.json'), 'utf8')) as { name: string }[];
        assert.deepEqual(
          nodes.map((node) => node.name).sort(),
          before.map((primary) => primary.id).sort(),
          'nodes.json lists each primary by id',
        );
        assert.match(result.stdout, /^redis-cli --cluster has no restore command$/m);
        ctx.measure('files', files.length);
        ctx.measure('nodesJsonBytes', (await readFile(join(dir, 'nodes.json'))).length);
      },
      { prepare: filled },
    ),
  }),
  defineSnippet({
    id: 'cluster-backup-safe',
    title: 'Back up every primary: BGSAVE, wait, copy its RDB with its id and slots',
    page,
    flavors: clusterFlavors(
      {
        docker: DOCKER_BACKUP_SAFE,
        host: [
          `ports="${PORTS}"`,
          '# 1. A snapshot on every primary, one after the other: each one is of the moment its BGSAVE forks',
          'start=$(date +%s%3N)',
          'for port in $ports; do redis-cli -p "$port" BGSAVE >/dev/null; done',
          'echo "time between the first and the last fork: $(( $(date +%s%3N) - start )) ms"',
          '# 2. Wait for each, then copy its RDB, its nodes.conf and its id and slots',
          'for port in $ports; do',
          `  ${waitWhile('redis-cli -p "$port" INFO persistence | grep -q \'rdb_bgsave_in_progress:1\'')}`,
          '  redis-cli -p "$port" INFO persistence | grep -q \'rdb_last_bgsave_status:ok\' || { echo "BGSAVE failed on $port"; exit 1; }',
          '  dir=$(redis-cli -p "$port" CONFIG GET dir | tail -n 1)',
          '  mkdir -p {{backupDir}}/"$port"',
          '  cp "$dir/dump.rdb" "$dir/nodes.conf" {{backupDir}}/"$port"/',
          '  redis-cli -p "$port" CLUSTER NODES | grep myself | cut -d \' \' -f 1,9- > {{backupDir}}/"$port"/slots',
          '  echo "node $port: $(cat {{backupDir}}/"$port"/slots), $(stat -c %s {{backupDir}}/"$port"/dump.rdb) bytes"',
          'done',
        ].join('\n'),
      },
      async ({ result, before, ctx }) => {
        assert.equal(result.exitCode, 0, result.all);
        const span = labelledNumber(result.stdout, 'time between the first and the last fork');
        ctx.measure('spanMs', span);
        const dir = ctx.values.backupDir;
        for (const primary of before) {
          const port = String(primary.server.port);
          assert.match(result.stdout, new RegExp(`^node ${port}: ${primary.id} ${primary.slots.join(' ')}, [1-9]\\d* bytes$`, 'm'));
          assert.deepEqual((await readdir(join(dir, port))).sort(), ['dump.rdb', 'nodes.conf', 'slots']);
          // The copy is a snapshot holding exactly the node's keys.
          await using loaded = await startRedis(
            { config: { appendonly: 'no', save: '""' }, initialFiles: { 'dump.rdb': join(dir, port, 'dump.rdb') } },
            ctx.engine,
          );
          const keys = Number((await loaded.cli(['DBSIZE'])).stdout.trim());
          assert.equal(keys, Number((await primary.server.cli(['DBSIZE'])).stdout.trim()), `the snapshot of ${port} holds its keys`);
        }
      },
      {
        prepare: async (cluster, scratch) => {
          await fill(cluster);
          await mkdir(join(scratch, 'backups'), { recursive: true });
          return {};
        },
      },
    ),
  }),
  defineSnippet({
    id: 'cluster-backup-cli',
    title: 'Back up a whole cluster with redis-playbook, and check the backup',
    page,
    flavors: clusterFlavors(
      {
        docker: DOCKER_BACKUP_CLI,
        host: [
          'redis-playbook backup --cluster --url redis://127.0.0.1:{{clusterPort1}} --to {{backupDir}}',
          'redis-playbook check "$(ls -d {{backupDir}}/*-cluster | tail -n 1)" | tail -n 1',
        ].join('\n'),
      },
      async ({ result, before, ctx }) => {
        assert.equal(result.exitCode, 0, result.all);
        const path = /^Cluster backup complete: (.+)$/m.exec(result.stdout)?.[1];
        assert.ok(path, result.stdout);
        assert.match(result.stdout, new RegExp(`^  ${before.length} shards, ${KEYS} keys, `, 'm'));
        const span = /The shards were taken over ([\d.]+) s/.exec(result.stdout)?.[1];
        assert.ok(span, 'the output says over how long the shards were taken');
        ctx.measure('spanSeconds', Number(span));
        assert.match(result.stdout, new RegExp(`^${path} is good \\(${before.length} shards\\)$`, 'm'));
        const read = await readAnyManifest(path);
        assert.equal(read.kind, 'cluster');
        const { manifest } = read;
        assert.deepEqual(
          manifest.shards.map((shard) => shard.nodeId).sort(),
          before.map((primary) => primary.id).sort(),
          'one shard per primary, by node id',
        );
        assert.equal(
          manifest.shards.reduce((sum, shard) => sum + shard.keys, 0),
          KEYS,
        );
      },
      { prepare: filled },
    ),
  }),
  defineSnippet({
    id: 'cluster-restore-into-cli',
    title: 'Restore a cluster backup into a running, empty cluster of another shape',
    page,
    flavors: clusterFlavors(
      {
        docker: DOCKER_RESTORE_INTO,
        host: [
          'redis-playbook restore {{backup}} --into-cluster redis://127.0.0.1:{{clusterPort1}} | head -n 1',
          HOST_COUNTS,
          reachable('{{clusterPort1}}'),
          withTtl(),
        ].join('\n'),
      },
      ({ result, ctx }) => {
        assert.equal(result.exitCode, 0, result.all);
        assert.match(result.stdout, new RegExp(`^Restored .* into the cluster of \\S+: ${KEYS} keys in [\\d.]+ s$`, 'm'));
        const perNode = [...result.stdout.matchAll(/^node \d+: (\d+) keys$/gm)].map((match) => Number(match[1]));
        assert.equal(perNode.length, 3);
        assert.equal(
          perNode.reduce((sum, keys) => sum + keys, 0),
          KEYS,
          'every key went to one primary',
        );
        assert.ok(
          perNode.every((keys) => keys > 0),
          'each primary got the keys of its slots',
        );
        assert.equal(labelledNumber(result.stdout, 'keys reachable through the cluster'), KEYS);
        assert.equal(labelledNumber(result.stdout, 'keys with a TTL'), TTL_KEYS, 'TTLs kept');
        ctx.measure('keys', KEYS);
        ctx.measure('ttlKeys', TTL_KEYS);
      },
      { prepare: async (_cluster, scratch, engine) => ({ backup: await clusterBackupOf4(scratch, engine) }) },
    ),
  }),
];
