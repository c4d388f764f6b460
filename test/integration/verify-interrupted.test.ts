import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { hostRedis } from '../../scripts/harness/engine.ts';
import { processAlive } from '../../scripts/harness/exit-hook.ts';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { waitFor } from '../../scripts/harness/wait.ts';

const root = join(import.meta.dirname, '..', '..');

/** Processes whose working dir is under `dir` (a disposable redis-server runs in its data dir), with their uid. */
async function processesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (!cwd.startsWith(dir)) continue;
    const uid = /^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''))?.[1];
    found.push(`${pid} uid=${uid} ${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ')}`);
  }
  return found;
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`verify stopped with ${signal} mid-run leaves no scratch dir and no server behind`, async () => {
    // Its own TMPDIR, so that what it leaves (and only that) is seen, whatever else runs meanwhile.
    const own = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}interrupted-`));
    try {
      const run = execa(
        process.execPath,
        [
          'scripts/verify/main.ts',
          '--only',
          'backup-manual',
          '--engines',
          'redis-7.0',
          '--flavor',
          'host',
          '--report',
          join(own, 'verify.json'),
        ],
        {
          cwd: root,
          env: { TMPDIR: own },
          reject: false,
          all: true,
          timeout: 120_000,
        },
      );
      // Mid-run: its scratch dir and its server's data dir exist, and the server runs there.
      await waitFor(
        async () => {
          const names = await readdir(own);
          return names.some((name) => name.startsWith(`${TEMP_PREFIX}verify-`)) && (await processesIn(own)).length > 0;
        },
        { what: 'the verification to start its server', timeoutMs: 60_000 },
      );
      run.kill(signal);
      const result = await run;
      assert.notEqual(result.exitCode, 0, result.all);
      assert.deepEqual(
        (await readdir(own)).filter((name) => name.startsWith(TEMP_PREFIX)),
        [],
        'no temp dir is left',
      );
      await waitFor(async () => (await processesIn(own)).length === 0, { what: "the verification's server to be gone", timeoutMs: 10_000 });
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
}

test("a process stopped with SIGTERM also kills a server that something else started in its disposable server's dir", async () => {
  // What a page's script does (rollback-restart-aof-off): a second, daemonized redis-server on the
  // harness server's data dir, which the harness did not start and so would not stop.
  const script = `
    import { join } from 'node:path';
    import { execa } from 'execa';
    import { startRedis } from './scripts/harness/redis-server.ts';
    const server = await startRedis();
    await server.stop();
    const pidFile = join(server.root, 'daemon.pid');
    await execa('redis-server', ['--port', '0', '--unixsocket', join(server.root, 'daemon.sock'), '--dir', server.dir, '--daemonize', 'yes', '--pidfile', pidFile]);
    console.log(JSON.stringify({ root: server.root, pidFile }));
    setInterval(() => undefined, 1000);`;
  const child = execa(process.execPath, ['--input-type=module', '-e', script], { cwd: root, reject: false, all: true, timeout: 60_000 });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      resolve(String(chunk).trim());
    });
    child.catch(reject);
  });
  const { root: serverRoot, pidFile } = JSON.parse(line) as { root: string; pidFile: string };
  let daemon = 0;
  await waitFor(async () => (daemon = Number(await readFile(pidFile, 'utf8').catch(() => '0'))) > 0, { what: "the daemon's pid file" });
  const alive = () => processAlive(daemon);
  try {
    assert.ok(alive());
    child.kill('SIGTERM');
    await child;
    await waitFor(() => !alive(), { what: `the daemonized redis-server ${daemon} to be gone`, timeoutMs: 10_000 });
    assert.deepEqual(await readdir(serverRoot).catch(() => 'removed'), 'removed');
  } finally {
    if (alive()) process.kill(daemon, 'SIGKILL');
  }
});

test("disposing a disposable server also kills a server that something else started in its dir (a failed verification's daemon)", async () => {
  const server = await startRedis();
  await server.stop();
  const pidFile = join(server.root, 'daemon.pid');
  await execa(hostRedis.server, [
    '--port',
    '0',
    '--unixsocket',
    join(server.root, 'daemon.sock'),
    '--dir',
    server.dir,
    '--daemonize',
    'yes',
    '--pidfile',
    pidFile,
  ]);
  let daemon = 0;
  await waitFor(async () => (daemon = Number(await readFile(pidFile, 'utf8').catch(() => '0'))) > 0, { what: "the daemon's pid file" });
  try {
    assert.ok(processAlive(daemon));
    await server.dispose();
    await waitFor(() => !processAlive(daemon), { what: `the daemonized redis-server ${daemon} to be gone`, timeoutMs: 10_000 });
    assert.deepEqual(await readdir(server.root).catch(() => 'removed'), 'removed');
  } finally {
    if (processAlive(daemon)) process.kill(daemon, 'SIGKILL');
  }
});
