import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { loadReport } from '../../scripts/verify/report.ts';

// A machine with redis-server but no Docker: here a daemon address that nothing answers on.
const noDaemon = 'unix:///nonexistent/redis-playbook-test/docker.sock';
const snippet = 'show-save-rules-disabled';

async function verifyWithoutDocker(ci: boolean) {
  const dir = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}no-docker-`));
  try {
    const reportPath = join(dir, 'verify.json');
    const env: Record<string, string | undefined> = {
      ...process.env,
      DOCKER_HOST: noDaemon,
      CI: undefined,
      PLAYBOOK_REQUIRE_ALL: ci ? '1' : '0',
    };
    const run = await execa(
      'npm',
      ['run', '--silent', 'verify', '--', '--only', snippet, '--engines', 'redis-7.0', '--report', reportPath],
      {
        cwd: join(import.meta.dirname, '..', '..'),
        env,
        extendEnv: false,
        reject: false,
        all: true,
        timeout: 180_000,
      },
    );
    const report = await loadReport(reportPath);
    assert.ok(report, `verify wrote no report:\n${run.all}`);
    const status = (flavor: string) => report.results.find((result) => result.id === snippet && result.flavor === flavor);
    return { run, host: status('host'), docker: status('docker') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('without Docker, the host flavor still runs and the Docker flavor is reported as not verified here', async () => {
  const { run, host, docker } = await verifyWithoutDocker(false);
  assert.equal(run.exitCode, 0, run.all);
  assert.equal(host?.status, 'passed', host?.error);
  assert.equal(docker?.status, 'skipped');
  assert.match(docker.error ?? '', /Docker not available here/);
  assert.match(run.all, /1 passed, 0 failed, 1 skipped/);
});

test('without Docker and with PLAYBOOK_REQUIRE_ALL=1, the Docker flavor fails the run', async () => {
  const { run, host, docker } = await verifyWithoutDocker(true);
  assert.equal(run.exitCode, 1, run.all);
  assert.equal(host?.status, 'passed', host?.error);
  assert.equal(docker?.status, 'failed');
  assert.match(docker.error ?? '', /PLAYBOOK_REQUIRE_ALL=1 requires the Docker checks to run/);
});
