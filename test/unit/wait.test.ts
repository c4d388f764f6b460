import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../scripts/harness/wait.ts';

/** Polls a probe that is never satisfied until `ms` have passed; returns how many times it ran. */
async function pollsWithin(ms: number, pacing: { intervalMs: number; maxIntervalMs?: number }): Promise<number> {
  const end = Date.now() + ms;
  let polls = 0;
  await waitFor(
    () => {
      polls++;
      return Date.now() >= end;
    },
    { what: 'the window to pass', timeoutMs: 60_000, ...pacing },
  );
  return polls;
}

test('maxIntervalMs: the pause doubles after each miss, up to the cap (a docker exec carrier is asked a few times, not every 20 ms)', async () => {
  // 20, 40, 80, 160, 160, …: within 700 ms at most 1 + 7 polls; at a fixed 20 ms, dozens.
  const backedOff = await pollsWithin(700, { intervalMs: 20, maxIntervalMs: 160 });
  assert.ok(backedOff <= 8, `${backedOff} polls`);
  const fixed = await pollsWithin(700, { intervalMs: 20 });
  assert.ok(fixed > backedOff, `fixed ${fixed}, backed off ${backedOff}`);
});

test('the pause never runs past the deadline: a timeout comes when it is due, not a long interval later', async () => {
  const started = Date.now();
  await assert.rejects(
    waitFor(() => false, { what: 'nothing', timeoutMs: 300, intervalMs: 60_000 }),
    /^Error: Timed out after 300 ms waiting for nothing$/,
  );
  assert.ok(Date.now() - started < 30_000, `${Date.now() - started} ms`);
});
