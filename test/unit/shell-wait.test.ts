import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execa } from 'execa';
import { unboundedLoops } from '../../scripts/lint/bounded-loops.ts';
import { repeatUntil, waitUntil, waitWhile } from '../../scripts/snippets/shell-wait.ts';

/** Runs `script` in sh and returns what it printed. */
async function sh(script: string): Promise<string> {
  return (await execa('sh', ['-c', script], { timeout: 10_000 })).stdout;
}

test('waitUntil stops at the first success and gives up after its bound when the state never comes', async () => {
  assert.equal(await sh(`n=0; ${waitUntil('n=$((n+1)); [ "$n" -ge 3 ]', { seconds: 1, interval: 0.01 })}; echo "$n"`), '3');
  assert.equal(await sh(`n=0; ${waitUntil('n=$((n+1)); false', { seconds: 0.05, interval: 0.01 })}; echo "$n"`), '5');
});

test('waitWhile stops at the first failure; a condition with its own && and || keeps its meaning', async () => {
  assert.equal(await sh(`n=0; ${waitWhile('n=$((n+1)); [ "$n" -lt 4 ]', { seconds: 1, interval: 0.01 })}; echo "$n"`), '4');
  assert.equal(
    await sh(
      `n=0; ${waitUntil('n=$((n+1)); [ "$n" -ge 2 ] && [ "$n" -ge 3 ] || [ "$n" = 9 ]', { seconds: 1, interval: 0.01 })}; echo "$n"`,
    ),
    '3',
  );
});

test('repeatUntil runs the step until the condition holds, at most the given times', async () => {
  assert.equal(await sh(`n=0; ${repeatUntil('[ "$n" -ge 2 ]', 'n=$((n+1))', 10)}; echo "$n"`), '2');
  assert.equal(await sh(`n=0; ${repeatUntil('false', 'n=$((n+1))', 7)}; echo "$n"`), '7');
  assert.throws(() => waitUntil('true', { seconds: 0 }), /positive seconds/);
});

test('the lint finds while and until loops where a command starts, not in comments or words', () => {
  assert.deepEqual(unboundedLoops('until redis-cli PING; do sleep 0.1; done'), ['until redis-cli PING; do sleep 0.1; done']);
  assert.equal(unboundedLoops('x=1; while [ "$x" ]; do x=; done').length, 1);
  assert.equal(unboundedLoops('# wait until it answers\necho "until the next save"').length, 0);
  assert.equal(unboundedLoops(waitUntil('redis-cli PING | grep -q PONG')).length, 0);
});
