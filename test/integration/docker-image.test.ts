/**
 * Which image the Docker flavor runs: the official one of the engine where it is here or a registry
 * answers, else the local build, as REDIS_PLAYBOOK_OFFICIAL_IMAGES says. Each case asks a fresh
 * process (ensureImage decides once per process). No registry answers on the CI machine: the official
 * `redis:8.0` is stood in for by the local Redis 8.0 build tagged under that name, and untagged after
 * (unless this machine had a real one, which is then used and left alone).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { dockerSkip } from '../../scripts/harness/docker/available.ts';
import { dockerTry } from '../../scripts/harness/docker/exec.ts';
import { OFFICIAL_ENV } from '../../scripts/harness/docker/image.ts';
import { engineUnavailableReason } from '../../scripts/harness/engine.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { loadReport } from '../../scripts/verify/report.ts';
import { requireAll } from '../../scripts/harness/require-all.ts';

const skip = await dockerSkip();
/** The Redis 8.6 image is built from the fetched engine (npm run engines); missing: skipped, a failure under PLAYBOOK_REQUIRE_ALL=1. */
const redis8Missing = requireAll() ? undefined : engineUnavailableReason('redis-8.6');
const projectRoot = join(import.meta.dirname, '..', '..');

/** `ensureImage(engineById(id))` in a fresh process: the ImageInfo it resolved to, or its error. */
async function imageIn(engineId: string, env: Record<string, string | undefined>) {
  const script = `
    const { ensureImage } = await import('./scripts/harness/docker/image.ts');
    const { engineById } = await import('./scripts/harness/engine.ts');
    try {
      const info = await ensureImage(engineById(${JSON.stringify(engineId)}));
      console.log(JSON.stringify({ tag: info.tag, status: info.status, version: info.version, officialSkipped: info.officialSkipped }));
    } catch (error) {
      console.log(JSON.stringify({ error: error.message }));
    }`;
  const run = await execa(process.execPath, ['--input-type=module', '-e', script], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    extendEnv: false,
    reject: false,
    timeout: 300_000,
  });
  assert.equal(run.exitCode, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
    tag?: string;
    status?: string;
    version?: string;
    officialSkipped?: string;
    error?: string;
  };
}

test(
  'an official image that is here is used, and the report names it; "never" builds locally instead',
  { skip: skip || redis8Missing, timeout: 600_000 },
  async () => {
    const hadOfficial = (await dockerTry(['image', 'inspect', '--format', '{{.Id}}', 'redis:8.6'])).exitCode === 0;
    const temp = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}image-`));
    try {
      const local = await imageIn('redis-8.6', { [OFFICIAL_ENV]: 'never' });
      assert.equal(local.tag, 'redis-playbook/redis:8.6.3-v2', JSON.stringify(local));
      assert.match(local.status ?? '', /^(built|cached)$/);
      assert.equal(local.officialSkipped, undefined);
      if (!hadOfficial) assert.equal((await dockerTry(['tag', local.tag, 'redis:8.6'])).exitCode, 0);

      const official = await imageIn('redis-8.6', {});
      assert.deepEqual({ tag: official.tag, status: official.status }, { tag: 'redis:8.6', status: 'official' }, JSON.stringify(official));
      assert.match(official.version ?? '', /^8\.6\.\d+$/);

      // verify runs the Docker flavor in it and says so.
      const report = join(temp, 'verify.json');
      const verify = await execa(
        'npm',
        [
          'run',
          '--silent',
          'verify',
          '--',
          '--only',
          'show-save-rules-disabled',
          '--engines',
          'redis-8.6',
          '--flavor',
          'docker',
          '--report',
          report,
        ],
        {
          cwd: projectRoot,
          reject: false,
          all: true,
          timeout: 300_000,
        },
      );
      const result = (await loadReport(report))?.results.find((each) => each.id === 'show-save-rules-disabled' && each.flavor === 'docker');
      assert.equal(result?.status, 'passed', verify.all);
      assert.equal(result.image, 'redis:8.6');
      assert.match(result.version, /^8\.6\.\d+$/);
    } finally {
      if (!hadOfficial) await dockerTry(['rmi', 'redis:8.6']);
      await rm(temp, { recursive: true, force: true });
    }
  },
);

test(
  'without the official image: "auto" builds locally and says why, "always" fails, a bad value is an error',
  { skip, timeout: 300_000 },
  async (t) => {
    if ((await dockerTry(['image', 'inspect', '--format', '{{.Id}}', 'redis:7.0'])).exitCode === 0) {
      t.skip('redis:7.0 is on this machine: nothing to fall back from');
      return;
    }
    const auto = await imageIn('redis-7.0', {});
    if (auto.status === 'official') {
      // A registry answered: the pull brought the official image; leave it to the machine's owner.
      assert.equal(auto.tag, 'redis:7.0');
      return;
    }
    assert.match(auto.tag ?? '', /^redis-playbook\/redis:7\.0\.\d+(-bookworm)?-v2$/, JSON.stringify(auto));
    assert.match(auto.officialSkipped ?? '', /^redis:7\.0 could not be pulled: /);

    const always = await imageIn('redis-7.0', { [OFFICIAL_ENV]: 'always' });
    assert.match(
      always.error ?? '',
      /^REDIS_PLAYBOOK_OFFICIAL_IMAGES=always, but redis:7\.0 could not be pulled: /,
      JSON.stringify(always),
    );

    const bad = await imageIn('redis-7.0', { [OFFICIAL_ENV]: 'sometimes' });
    assert.equal(bad.error, 'REDIS_PLAYBOOK_OFFICIAL_IMAGES must be auto, never or always, not "sometimes"');
  },
);

for (const id of ['redis-7.0', 'redis-8.6', 'valkey-9.1']) {
  const missing = requireAll() ? undefined : engineUnavailableReason(id);
  test(
    `the ${id} image behaves like the official one: its server runs as uid 999, which owns /data; other commands run as root`,
    { skip: skip || missing, timeout: 300_000 },
    async () => {
      const image = await imageIn(id, { [OFFICIAL_ENV]: 'never' });
      assert.ok(image.tag, JSON.stringify(image));
      const user = id.startsWith('valkey') ? 'valkey' : 'redis';
      const name = `${TEMP_PREFIX}${id}-entrypoint`;
      const started = await dockerTry(['run', '-d', '--name', name, '--network', 'none', image.tag]);
      try {
        assert.equal(started.exitCode, 0, started.stderr);
        const seen = await waitFor(
          async () => {
            const ps = await dockerTry(['exec', name, 'sh', '-c', 'redis-cli ping && ps -o user,pid,args && ls -ldn /data && pwd']);
            return ps.exitCode === 0 && ps.stdout.includes('PONG') ? ps.stdout : undefined;
          },
          { what: `the server in ${name}`, timeoutMs: 30_000 },
        );
        assert.match(seen, new RegExp(`^\\s*${user}\\s+1\\s+${user}-server \\*:6379`, 'm'), 'PID 1 is the server, as the server user');
        assert.match(seen, /^drwx\S+\s+\d+\s+999\s+999\s.*\/data$/m, '/data belongs to uid 999');
        assert.match(seen, /^\/data$/m, 'WORKDIR /data');
        const root = await dockerTry(['run', '--rm', '--network', 'none', image.tag, 'id', '-u']);
        assert.equal(root.stdout.trim(), '0', 'a throwaway command runs as root, as in the official image');
      } finally {
        await dockerTry(['rm', '-fv', name]);
      }
    },
  );
}
