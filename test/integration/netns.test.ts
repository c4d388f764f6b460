import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { runProgramOk } from '../../scripts/core/run.ts';
import { findLeftovers } from '../../scripts/harness/leftovers.ts';
import { listNetns, netnsNames, removeNetns } from '../../scripts/harness/netns.ts';
import { waitFor } from '../../scripts/harness/wait.ts';

test('a drill namespace left with a process in it is reported, then removed with its process', async () => {
  const { a: name } = netnsNames(['a']);
  await runProgramOk('ip', ['netns', 'add', name]);
  const child = spawn('ip', ['netns', 'exec', name, 'sleep', '600'], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  try {
    const pid = child.pid;
    assert.ok(pid !== undefined, 'sleep started in the namespace');
    await waitFor(async () => (await runProgramOk('ip', ['netns', 'pids', name])).stdout.trim() === String(pid), {
      what: `sleep ${pid} inside ${name}`,
      timeoutMs: 10_000,
    });
    assert.ok((await findLeftovers()).includes(`network namespace ${name}`), 'the leftover check names the namespace');

    await removeNetns(name);

    assert.deepEqual(await listNetns(name), [], 'the namespace is gone');
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL', 'the process in it was killed');
    assert.ok(!(await findLeftovers()).includes(`network namespace ${name}`));
    await removeNetns(name); // a second removal of a name that is gone is fine
  } finally {
    child.kill('SIGKILL');
    await removeNetns(name);
  }
});
