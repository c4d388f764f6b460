import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostRedis } from '../../scripts/harness/engine.ts';
import { processAlive } from '../../scripts/harness/exit-hook.ts';
import { startRedis, type DisposableRedis } from '../../scripts/harness/redis-server.ts';
import { TEMP_PREFIX } from '../../scripts/harness/leftovers.ts';
import { waitFor } from '../../scripts/harness/wait.ts';
import { exec } from '../../scripts/snippets/exec.ts';
import { defineSnippet, SnippetSchema } from '../../scripts/snippets/schema.ts';
import { runSnippet } from '../../scripts/verify/run-snippet.ts';

const TIMEOUT_MS = 4_000;

/** The state letter of /proc/PID/stat (R, S, Z, …), or '' when the pid is gone. */
function state(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return '';
  }
}

/** Whether the process runs: it exists and is not a zombie (dead, waiting for its parent to reap it). */
const running = (pid: number) => processAlive(pid) && state(pid) !== 'Z';

test('a verification that hangs past its timeout leaves none of its processes running a second later', async (t) => {
  const own = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}timeout-`));
  const pids: { what: string; pid: number }[] = [];
  let verifyStarted = 0;
  let extra: DisposableRedis | undefined;
  try {
    // A test-only block (on no page): its command blocks a redis-cli forever, its check starts a
    // second server and a program and then waits on the command, past the flavor's timeout.
    const snippet = SnippetSchema.parse(
      defineSnippet({
        id: 'test-hanging-verify',
        title: 'A verification that hangs',
        page: 'test/none',
        flavors: {
          host: {
            command: 'redis-cli -h {{host}} -p {{port}} BLPOP never-pushed 0 & echo "$$ $!" > "$PIDS/shell"; wait',
            timeoutMs: TIMEOUT_MS,
            async verify(ctx) {
              verifyStarted = Date.now();
              const server = ctx.server;
              pids.push({ what: 'the stage server', pid: server.pid as number });
              extra = await startRedis({}, ctx.engine);
              pids.push({ what: 'a server the check started', pid: extra.pid as number });
              // A program the check starts itself (scripts/snippets/exec.ts), with a child of its own.
              const sleeper = exec('/bin/sh', ['-c', `sleep 600 & echo $! > ${own}/sleep; wait`], { reject: false });
              pids.push({ what: 'a program the check started', pid: sleeper.pid as number });
              await ctx.run({ env: { PIDS: own }, timeoutMs: 600_000 });
            },
          },
        },
      }),
    );
    const result = await runSnippet(snippet, 'host', snippet.flavors.host as NonNullable<typeof snippet.flavors.host>, hostRedis);
    const returnedAt = Date.now();
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /did not finish within 4000 ms/);
    const [shell, cli] = (await readFile(join(own, 'shell'), 'utf8')).trim().split(' ').map(Number);
    pids.push({ what: 'the shell of the command', pid: shell as number }, { what: 'the redis-cli it started', pid: cli as number });
    pids.push({ what: 'the child of that program', pid: Number((await readFile(join(own, 'sleep'), 'utf8')).trim()) });
    assert.equal(pids.length, 6);
    const deadline = verifyStarted + TIMEOUT_MS;
    // Every process gone within one second of the timeout, checked by pid.
    await waitFor(() => pids.every(({ pid }) => !running(pid)), {
      what: 'the processes to be gone',
      timeoutMs: Math.max(0, deadline + 1_000 - Date.now()),
      intervalMs: 20,
    }).catch(() => undefined);
    const alive = pids.filter(({ pid }) => running(pid)).map(({ what, pid }) => `${what} (${pid}) ${state(pid)}`);
    assert.deepEqual(alive, [], 'nothing is left running');
    const goneAfter = Date.now() - deadline;
    t.diagnostic(
      `all ${pids.length} processes gone ${goneAfter} ms after the timeout; runSnippet returned ${returnedAt - deadline} ms after it`,
    );
    assert.ok(goneAfter <= 1_000, `gone within a second of the timeout (${goneAfter} ms after it)`);
  } finally {
    await extra?.dispose();
    await rm(own, { recursive: true, force: true });
  }
});
