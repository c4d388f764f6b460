import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { dockerSkip } from '../../scripts/harness/docker/available.ts';
import { composeCommand, composeShim, startComposeProject } from '../../scripts/harness/docker/compose.ts';
import { docker, lines, runTool } from '../../scripts/harness/docker/exec.ts';
import { ensureImage } from '../../scripts/harness/docker/image.ts';
import { uniqueNames } from '../../scripts/harness/docker/options.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { SnippetSchema } from '../../scripts/snippets/schema.ts';
import { runSnippet } from '../../scripts/verify/run-snippet.ts';

// Skipped with "Docker not available here" where Docker is missing; with PLAYBOOK_REQUIRE_ALL=1 they run and fail.
const skip = await dockerSkip();

/** Containers, volumes and networks carrying the project's Compose label or its names. */
async function projectThings(project: string): Promise<string[]> {
  const label = `label=com.docker.compose.project=${project}`;
  const found = [
    ...lines((await docker(['ps', '--all', '--filter', label, '--format', 'container {{.Names}}'])).stdout),
    ...lines((await docker(['volume', 'ls', '--filter', label, '--format', 'volume {{.Name}}'])).stdout),
    ...lines((await docker(['network', 'ls', '--filter', label, '--format', 'network {{.Name}}'])).stdout),
  ];
  for (const line of lines((await docker(['ps', '--all', '--filter', `name=${project}`, '--format', 'container {{.Names}}'])).stdout))
    found.push(line);
  for (const line of lines((await docker(['volume', 'ls', '--filter', `name=${project}`, '--format', 'volume {{.Name}}'])).stdout))
    found.push(line);
  return [...new Set(found)];
}

test('a Compose project keeps its AOF data through docker kill, and through stop and start', { skip }, async () => {
  await using redis = await startComposeProject({ config: { appendonly: 'yes', save: ['900 1', '300 10', '60 10000'] } });
  assert.equal(redis.service, 'redis');
  assert.equal(redis.volume, `${redis.project}_redis-data`);
  await redis.withClient(async (client) => {
    for (let i = 0; i < 100; i++) await client.rpush('events', String(i));
  });
  await redis.kill();
  await redis.start();
  assert.equal((await redis.cli(['LLEN', 'events'])).stdout.trim(), '100');
  await redis.stop();
  assert.equal(await redis.isRunning(), false);
  await redis.start();
  assert.equal((await redis.cli(['LLEN', 'events'])).stdout.trim(), '100');
  const ps = await redis.compose(['ps']);
  assert.equal(ps.exitCode, 0);
  assert.match(ps.stdout, new RegExp(redis.name), 'Compose commands in the project dir act on this project');
});

test("disposal removes the project's containers and volumes, even when its compose file is gone", { skip }, async () => {
  const redis = await startComposeProject({ config: { appendonly: 'yes' } });
  assert.ok((await projectThings(redis.project)).length >= 2);
  // Break `down`: without its compose file, Compose cannot tell what the project holds.
  await rm(redis.composeFile);
  await redis.dispose();
  assert.deepEqual(await projectThings(redis.project), []);
});

test('two projects started in parallel get distinct names and separate data', { skip }, async () => {
  const [a, b] = await Promise.all([startComposeProject(), startComposeProject()]);
  await using first = a;
  await using second = b;
  assert.notEqual(first.project, second.project);
  assert.notEqual(first.name, second.name);
  assert.notEqual(first.volume, second.volume);
  await first.cli(['SET', 'owner', 'first']);
  assert.equal((await second.cli(['EXISTS', 'owner'])).stdout.trim(), '0');
});

test("a reader's compose file runs as given, on its own project network, and leaves nothing behind", { skip }, async () => {
  const names = uniqueNames();
  const file = [
    'services:',
    '  redis:',
    '    image: IMAGE',
    `    container_name: ${names.container}`,
    '    command: redis-server --appendonly yes',
    '    volumes:',
    '      - redis-data:/data',
    'volumes:',
    '  redis-data:',
    '',
  ].join('\n');
  const image = (await ensureImage()).tag;
  {
    await using redis = await startComposeProject({}, { file: file.replace('IMAGE', image), names, image });
    assert.equal(redis.name, names.container);
    assert.equal(redis.volume, names.volume);
    assert.equal(redis.socket, undefined, "nothing of the harness is mounted into a reader's file");
    assert.equal((await redis.info('persistence')).persistence?.aof_enabled, '1');
    await assert.rejects(redis.client(), /docker exec/);
  }
  assert.deepEqual(await projectThings(names.project), []);
});

test('`docker compose …` runs through the shim on a machine with only docker-compose', { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}shim-`));
  try {
    await using redis = await startComposeProject();
    const shim = await composeShim(join(dir, 'bin'));
    const v2 = (await composeCommand())[0] === 'docker';
    assert.equal(
      shim === undefined,
      v2 && (await runTool('docker-compose', ['version'])).exitCode === 0,
      'a shim is written only where a Compose command is missing',
    );
    const env = { ...redis.composeEnv, PATH: `${shim ? `${shim}${delimiter}` : ''}${process.env.PATH}` };
    for (const command of ['docker compose ps', 'docker-compose ps']) {
      const result = await runTool('bash', ['-c', command], { cwd: redis.projectDir, env });
      assert.equal(result.exitCode, 0, `${command}: ${result.stderr}`);
      assert.match(result.stdout, new RegExp(redis.name));
    }
    const other = await runTool('bash', ['-c', 'docker version --format "{{.Server.Version}}"'], { env });
    assert.equal(other.exitCode, 0, 'other docker commands pass through the shim');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a Docker flavor shown with `docker compose` passes verification, its output showing the documented names', { skip }, async () => {
  const snippet = SnippetSchema.parse({
    id: 'compose-restart-keeps-data',
    title: 'Restart the service',
    page: 'test',
    flavors: {
      docker: {
        command:
          "docker compose stop {{service}} && docker compose start {{service}} && docker exec {{container}} redis-cli DBSIZE && docker volume inspect --format '{{.Name}}' {{volume}}",
        compose: true,
        server: { config: { appendonly: 'yes' } },
        async setup(server: { cli(args: string[]): Promise<unknown> }) {
          await server.cli(['SET', 'kept', 'yes']);
        },
        async verify(ctx: { run(): Promise<{ exitCode: number; stdout: string }> }) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /^1$/m);
        },
      },
    },
  });
  const result = await runSnippet(snippet, 'docker', snippet.flavors.docker!);
  assert.equal(result.status, 'passed', result.error);
  assert.equal(result.engine, 'redis');
  assert.match(result.version, /^\d+\.\d+\.\d+$/);
  assert.doesNotMatch(result.output, /redis-playbook-/, 'unique names are shown as the documented defaults');
  assert.match(result.output, /crawler_redis-data/);
});
