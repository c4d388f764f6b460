import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpuSeconds, cpuSpent } from '../../scripts/bench/cpu.ts';
import { phasesOf } from '../../scripts/bench/phases.ts';

describe('cpuSeconds', () => {
  it("counts this process's own CPU time, read from /proc, growing with work", async () => {
    const before = await cpuSeconds([]);
    const hash = createHash('sha256');
    const chunk = Buffer.alloc(1 << 20, 1);
    const until = performance.now() + 300;
    while (performance.now() < until) hash.update(chunk);
    const spent = cpuSpent(before, await cpuSeconds([]));
    assert.ok(spent.node >= 0.1, `expected at least 0.1 s of CPU, got ${spent.node}`);
    assert.equal(spent.servers, 0);
    assert.equal(spent.total, spent.node + spent.children + spent.servers);
  });

  it('counts a process that is gone as 0', async () => {
    // Above the kernel's pid_max (at most 2^22): no such process.
    assert.equal((await cpuSeconds([5_000_000])).servers, 0);
  });
});

describe('phasesOf', () => {
  it("splits a backup's time at its progress events, ignoring the repeated save polls", () => {
    const marks = new Map([
      ['saving', 1100],
      ['copying dump.rdb', 3000],
      ['checking dump.rdb', 3500],
    ]);
    assert.deepEqual(phasesOf(marks, 1000, 4000), { save: 2, 'copying dump.rdb': 0.5, 'checking dump.rdb': 0.5 });
  });
});
