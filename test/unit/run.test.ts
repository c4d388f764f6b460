import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExecaError } from 'execa';
import { PlaybookError } from '../../scripts/core/errors.ts';
import { findOnPath, pathOf, runProgram, runProgramOk } from '../../scripts/core/run.ts';

describe('the core process runner', () => {
  it('resolves whatever the exit code, and says when the program is not installed', async () => {
    const failed = await runProgram('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual(failed, { exitCode: 3, stdout: 'out', stderr: 'err', timedOut: false, notFound: false });
    const missing = await runProgram('redis-playbook-no-such-program', []);
    assert.equal(missing.notFound, true);
    assert.equal(await runProgram('cat', [], { input: 'typed' }).then((run) => run.stdout), 'typed');
  });

  it("runProgramOk throws the project error of the kind asked, with the command, its output and execa's error as cause", async () => {
    const error = await runProgramOk('sh', ['-c', 'echo refused >&2; exit 4'], { kind: 'docker' }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof PlaybookError);
    assert.equal(error.kind, 'docker');
    assert.equal(error.exitCode, 9);
    assert.equal(error.command, 'sh -c echo refused >&2; exit 4');
    assert.equal(error.message, '`sh -c echo refused >&2; exit 4` failed (exit 4):\nrefused');
    assert.ok(error.cause instanceof ExecaError);
    assert.equal((await runProgramOk('true', [])).exitCode, 0);
  });

  it('a killed run says after how long', async () => {
    const error = await runProgramOk('sleep', ['5'], { timeoutMs: 50 }).catch((caught: unknown) => caught);
    assert.ok(error instanceof PlaybookError);
    assert.match(error.message, /^`sleep 5` failed \(killed after 50 ms\)$/);
  });

  it('builds and searches a PATH', () => {
    assert.equal(pathOf('/a', undefined, '', '/b'), '/a:/b');
    assert.equal(findOnPath('sh', pathOf('/nonexistent', '/bin', '/usr/bin'))?.endsWith('/sh'), true);
    assert.equal(findOnPath('redis-playbook-no-such-program'), undefined);
  });
});
