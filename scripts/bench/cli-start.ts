import { execa } from 'execa';
import { stat } from 'node:fs/promises';
import { bundlePath, releaseFiles } from '../package/build.ts';
import { compare, type Comparison } from './report.ts';

/** Starts per timed round: one start (about 0.1 s) is too short to time on a busy machine. */
const STARTS_PER_ROUND = 10;

/** Seconds for `STARTS_PER_ROUND` runs of `file args --version`, one after the other. */
async function starts(file: string, args: string[]): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < STARTS_PER_ROUND; i++) {
    const run = await execa(file, [...args, '--version'], { env: { PATH: '/usr/bin:/bin' }, extendEnv: false });
    if (run.stderr !== '') throw new Error(`${file} --version printed on stderr: ${run.stderr}`);
  }
  return (performance.now() - started) / 1000;
}

/**
 * The single executable's start against `node` (this Node, the one inside the executable) running the
 * same bundle: `redis-playbook --version`, ten starts a round, sides alternating, after untimed
 * warm-up rounds (page cache). Builds both with `npm run build:cli`'s code first.
 */
export async function measureStart(options: { rounds: number; warmup: number }, log: (message: string) => void): Promise<Comparison> {
  const { executable } = await releaseFiles();
  log(
    `single executable ${((await stat(executable)).size / 1e6).toFixed(1)} MB, bundle ${((await stat(bundlePath)).size / 1e6).toFixed(2)} MB`,
  );
  const raw: number[] = [];
  const sea: number[] = [];
  for (let round = 0; round < options.warmup + options.rounds; round++) {
    const sides = [() => starts(process.execPath, [bundlePath]), () => starts(executable, [])] as const;
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    const seconds: number[] = [0, 0];
    for (const side of order) seconds[side] = await sides[side as 0 | 1]();
    log(
      `start ${round < options.warmup ? 'warm-up' : 'round'} ${round + 1}: node bundle ${seconds[0]?.toFixed(2)} s, single executable ${seconds[1]?.toFixed(2)} s (${STARTS_PER_ROUND} starts each)`,
    );
    if (round < options.warmup) continue;
    raw.push(seconds[0] as number);
    sea.push(seconds[1] as number);
  }
  return compare({
    name: 'start (--version)',
    appendonly: false,
    raw: `node redis-playbook.cjs --version, ${STARTS_PER_ROUND} times`,
    playbook: `single executable --version, ${STARTS_PER_ROUND} times`,
    rawSeconds: raw,
    playbookSeconds: sea,
  });
}
