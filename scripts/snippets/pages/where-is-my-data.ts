import { sameCheck } from '../same-check.ts';
import assert from 'node:assert/strict';
import { engineTraits } from '../../engines/catalog.ts';
import { defineSnippet } from '../schema.ts';
import { configPairs } from '../outputs.ts';
import { readdir } from 'node:fs/promises';
import { startComposeProject } from '../../harness/docker/compose.ts';
import { dockerTry } from '../../harness/docker/exec.ts';
import { serverArgs, uniqueNames } from '../../harness/docker/options.ts';
import { someDataSaved } from '../scenarios/docker.ts';
import { fillCommand } from '../placeholders.ts';
import { engineVariant, singleFileAofVariant } from '../variants.ts';

/**
 * How the seed's Compose service starts Redis (its `command:`): snapshots at 900 s/1 change,
 * 300 s/10, 60 s/10000, AOF on, a 24 GB memory limit that refuses writes when full.
 */
/**
 * A fresh AOF's manifest: one base file and one incr file. Redis 8 adds the replication offset
 * where the incr file starts (`startoffset N`; the page says so).
 */
function assertFreshManifest(stdout: string, engineId: string | undefined): void {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 2, 'a fresh AOF has one base file and one incr file');
  assert.match(lines[0] ?? '', /^file appendonly\.aof\.1\.base\.rdb seq 1 type b$/);
  const incr = engineTraits(engineId).manifestOffsets
    ? /^file appendonly\.aof\.1\.incr\.aof seq 1 type i startoffset \d+$/
    : /^file appendonly\.aof\.1\.incr\.aof seq 1 type i$/;
  assert.match(lines[1] ?? '', incr);
}

/** The names `ls -l` lists (its last column), without the `total` line. */
function fileNames(stdout: string): string[] {
  return stdout
    .trim()
    .split('\n')
    .filter((line) => !line.startsWith('total '))
    .map((line) => line.split(' ').at(-1) ?? '')
    .sort();
}

/** redis-check-aof on a single-file AOF (Redis 6.0): the whole file read, and valid. */
function assertSingleFileAof(stdout: string): void {
  const analyzed = /^AOF analyzed: size=(\d+), ok_up_to=(\d+)/m.exec(stdout);
  assert.ok(analyzed, `expected an "AOF analyzed" line in:\n${stdout}`);
  assert.equal(analyzed[2], analyzed[1], 'every byte is whole commands');
  assert.match(stdout, /^AOF is valid$/m);
}

export const seedServerConfig = {
  save: ['900 1', '300 10', '60 10000'],
  appendonly: 'yes',
  maxmemory: '24gb',
  'maxmemory-policy': 'noeviction',
};

/** `redis-server --save 900 1 --save 300 10 …`: the seed's command line. */
const seedCommand = ['redis-server', ...serverArgs(seedServerConfig)].join(' ');

/**
 * The seed's compose file (project dir `crawler/`): Redis with its data on the named volume
 * `redis-data`, which Compose creates as `crawler_redis-data`. No `ports:`: the crawler reaches Redis
 * on the project network, and the playbook's commands use `docker exec`.
 */
export const composeFile = `services:
  redis:
    image: {{image}}
    container_name: {{container}}
    restart: unless-stopped
    command: ${seedCommand}
    volumes:
      - redis-data:/data

volumes:
  redis-data:
`;

export const dataLocationSnippets = [
  defineSnippet({
    id: 'config-data-location',
    title: 'Find the data directory and file names',
    page: 'persistence/where-is-my-data',
    flavors: {
      host: {
        command: 'redis-cli -h {{host}} -p {{port}} CONFIG GET dir dbfilename appenddirname appendfilename appendonly',
        variants: [
          engineVariant(
            (traits) => !traits.configGetMany && traits.aofLayout === 'file',
            'CONFIG GET takes one name at a time, and there is no appenddirname: the AOF is one file, appendfilename, in dir.',
            'for name in dir dbfilename appendfilename appendonly; do redis-cli -h {{host}} -p {{port}} CONFIG GET "$name"; done',
          ),
        ],
        server: { config: { appendonly: 'yes' } },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const config = configPairs(stdout);
          assert.equal(config.dir, ctx.server.dir);
          assert.equal(config.dbfilename, 'dump.rdb');
          assert.equal(config.appenddirname, engineTraits(ctx.engine.id).aofLayout === 'dir' ? 'appendonlydir' : undefined);
          assert.equal(config.appendfilename, 'appendonly.aof');
          assert.equal(config.appendonly, 'yes');
        },
      },
      docker: {
        command: 'docker exec {{container}} redis-cli CONFIG GET dir dbfilename appenddirname appendfilename appendonly',
        compose: true,
        server: { config: seedServerConfig },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.deepEqual(configPairs(stdout), {
            dir: '/data',
            dbfilename: 'dump.rdb',
            appenddirname: 'appendonlydir',
            appendfilename: 'appendonly.aof',
            appendonly: 'yes',
          });
        },
      },
    },
  }),
  defineSnippet({
    id: 'compose-file',
    title: 'A compose file that keeps Redis data on a named volume',
    page: 'persistence/where-is-my-data',
    flavors: {
      docker: {
        lang: 'yaml',
        command: composeFile,
        // The verification runs this very file (placeholders filled with unique names) as its own project.
        server: false,
        values: () => ({ ...uniqueNames() }),
        timeoutMs: 120_000,
        async verify(ctx) {
          const { project, container, volume, service } = ctx.values as Record<'project' | 'container' | 'volume' | 'service', string>;
          await using redis = await startComposeProject(
            {},
            { file: ctx.command, names: { project, container, volume, service }, image: ctx.values.image },
          );
          assert.equal(redis.name, container, 'container_name names the container');
          assert.equal(redis.volume, volume, 'Compose names the volume <project>_redis-data and mounts it at /data');
          const config = configPairs(
            (await redis.cli(['CONFIG', 'GET', 'save', 'appendonly', 'maxmemory', 'maxmemory-policy', 'dir'])).stdout,
          );
          assert.deepEqual(config, {
            save: '900 1 300 10 60 10000',
            appendonly: 'yes',
            maxmemory: String(24 * 1024 ** 3),
            'maxmemory-policy': 'noeviction',
            dir: '/data',
          });
          const restart = await dockerTry(['container', 'inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}', container]);
          assert.equal(restart.stdout.trim(), 'unless-stopped');
        },
      },
    },
  }),
  defineSnippet({
    id: 'volume-location',
    title: 'Find the volume on the Docker host',
    page: 'persistence/where-is-my-data',
    flavors: {
      docker: {
        command: 'docker volume inspect {{volume}}',
        // The seed's compose file as given, so the labels are the ones Compose puts on a reader's volume.
        server: false,
        values: () => ({ ...uniqueNames() }),
        timeoutMs: 120_000,
        async verify(ctx) {
          const { project, container, volume, service, image } = ctx.values as Record<
            'project' | 'container' | 'volume' | 'service' | 'image',
            string
          >;
          const file = fillCommand(composeFile, ctx.values, 'docker');
          await using redis = await startComposeProject({}, { file, names: { project, container, volume, service }, image });
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const [inspected] = JSON.parse(stdout) as { Name: string; Mountpoint: string; Labels: Record<string, string> | null }[];
          assert.ok(inspected, 'one volume');
          assert.equal(inspected.Name, redis.volume);
          assert.equal(inspected.Labels?.['com.docker.compose.project'], project);
          assert.equal(inspected.Labels['com.docker.compose.volume'], 'redis-data');
          assert.match(inspected.Mountpoint, new RegExp(`/volumes/${volume}/_data$`));
          // On this machine the daemon is local: the Mountpoint is the very /data of the container.
          assert.ok((await readdir(inspected.Mountpoint)).includes('appendonlydir'), 'the AOF dir is in the Mountpoint');
        },
      },
    },
  }),
  defineSnippet({
    id: 'list-data-files',
    title: 'List the snapshot and AOF files',
    page: 'persistence/where-is-my-data',
    flavors: sameCheck(
      {
        setup: someDataSaved,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          if (engineTraits(ctx.engine.id).aofLayout === 'file') {
            assert.deepEqual(fileNames(stdout), ['appendonly.aof', 'dump.rdb']);
            return;
          }
          assert.ok(
            stdout.includes(`${ctx.values.dataDir}:\n`) && stdout.includes(`${ctx.values.dataDir}/appendonlydir:\n`),
            'ls names both dirs',
          );
          for (const name of ['dump.rdb', 'appendonlydir', 'appendonly.aof.manifest'])
            assert.match(stdout, new RegExp(` ${name.replace(/\./g, '\\.')}$`, 'm'));
          assert.match(stdout, / appendonly\.aof\.\d+\.base\.rdb$/m);
          assert.match(stdout, / appendonly\.aof\.\d+\.incr\.aof$/m);
        },
      },
      {
        host: {
          command: 'ls -l {{dataDir}} {{dataDir}}/appendonlydir',
          variants: [
            singleFileAofVariant('the AOF is one file, appendonly.aof, beside dump.rdb: there is no appendonlydir.', 'ls -l {{dataDir}}'),
          ],
          server: { config: { appendonly: 'yes' } },
        },
        docker: {
          // A throwaway container on the volume: works whether Redis runs or not, and on Docker Desktop too.
          command: 'docker run --rm -v {{volume}}:/data {{image}} ls -l /data /data/appendonlydir',
          server: { config: seedServerConfig },
        },
      },
    ),
  }),
  defineSnippet({
    id: 'show-aof-manifest',
    title: 'See which files make up the AOF',
    page: 'persistence/where-is-my-data',
    flavors: sameCheck(
      {
        setup: someDataSaved,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          if (engineTraits(ctx.engine.id).aofLayout === 'file') assertSingleFileAof(stdout);
          else assertFreshManifest(stdout, ctx.server.engine.id);
        },
      },
      {
        host: {
          command: 'cat {{dataDir}}/appendonlydir/appendonly.aof.manifest',
          variants: [
            singleFileAofVariant(
              'there is no manifest: the AOF is one appendonly.aof (after a rewrite, a snapshot first: the RDB preamble), and its checker says whether it is whole.',
              'redis-check-aof {{dataDir}}/appendonly.aof',
            ),
          ],
          server: { config: { appendonly: 'yes' } },
        },
        docker: {
          command: 'docker exec {{container}} cat {{dataDir}}/appendonlydir/appendonly.aof.manifest',
          server: { config: seedServerConfig },
        },
      },
    ),
  }),
];
