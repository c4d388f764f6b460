import { availableParallelism } from 'node:os';
import type { Engine } from '../harness/engine.ts';
import { hostRedis } from '../harness/engine.ts';
import { DOCKER_ENGINE_IDS } from '../harness/docker/image.ts';
import { flavorsOf } from '../snippets/registry.ts';
import type { Flavor, FlavorId, Snippet } from '../snippets/schema.ts';
import { resultKey, type Result } from './report.ts';
import { runSnippet } from './run-snippet.ts';

export interface Job {
  snippet: Snippet;
  flavorId: FlavorId;
  flavor: Flavor;
  engine: Engine;
}

export interface VerifyAllOptions {
  /** Parallel verifications (serial ones always run alone, after the others). */
  concurrency?: number;
  /**
   * Engines the flavors run on (default: the host's Redis): host flavors on each, the Docker flavor on
   * each that has an image ({@link DOCKER_ENGINE_IDS}: Redis 7.0 and 8.0).
   */
  engines?: Engine[];
  /**
   * Engines besides {@link engines} that run only the blocks naming them in their `engines` (a default
   * run adds those a block was written for outside the page matrix: the Compose upgrade to Valkey 9.1).
   */
  namedEngines?: Engine[];
  /** Only this flavor (default: every flavor of each snippet). */
  flavor?: FlavorId;
  /**
   * How long each job took last time (by {@link resultKey}), to start the longest first so that the
   * run does not end waiting on one long job; without it, Docker flavors (the slow ones) go first.
   */
  previousDurations?: ReadonlyMap<string, number>;
  /** Called as each verification ends (progress). */
  onResult?: (result: Result, done: number, total: number) => void;
}

/**
 * The verifications to run: each flavor of each snippet on each engine it may run on (its `engines`,
 * and for the Docker flavor an engine with an image), plus the named engines of the blocks naming them.
 */
export function planJobs(
  snippets: Iterable<Snippet>,
  { engines = [hostRedis], namedEngines = [], flavor: only }: Pick<VerifyAllOptions, 'engines' | 'namedEngines' | 'flavor'> = {},
): Job[] {
  const jobs: Job[] = [];
  for (const snippet of snippets) {
    for (const [flavorId, flavor] of flavorsOf(snippet)) {
      if (only !== undefined && flavorId !== only) continue;
      // An engine outside the run's matrix runs the blocks that name it: in `engines`, or in a variant of the flavor.
      const names = (id: string) =>
        snippet.engines?.includes(id) === true || flavor.variants.some((variant) => variant.engines.includes(id));
      const named = namedEngines.filter((engine) => names(engine.id) && !engines.some((known) => known.id === engine.id));
      for (const engine of [...engines, ...named]) {
        if (snippet.engines && !snippet.engines.includes(engine.id)) continue;
        if (flavorId !== 'docker' || DOCKER_ENGINE_IDS.includes(engine.id)) jobs.push({ snippet, flavorId, flavor, engine });
      }
    }
  }
  return jobs;
}

/** Runs every flavor of every given snippet, in parallel where safe, and returns the results in registry order. */
export async function verifyAll(snippets: Iterable<Snippet>, options: VerifyAllOptions = {}): Promise<Result[]> {
  const { concurrency = Math.max(2, availableParallelism() * 2), previousDurations, onResult } = options;
  const jobs = planJobs(snippets, options);
  const results = new Array<Result>(jobs.length);
  let done = 0;
  const runJob = async (index: number) => {
    const job = jobs[index] as Job;
    const result = await runSnippet(job.snippet, job.flavorId, job.flavor, job.engine);
    results[index] = result;
    onResult?.(result, ++done, jobs.length);
  };
  // Longest first: the last run's time; a job it lacks counts as long for a Docker flavor (the slow
  // ones) and short for a host one (registry order within equal times).
  const expected = (job: Job) =>
    previousDurations?.get(resultKey({ id: job.snippet.id, flavor: job.flavorId, engineId: job.engine.id })) ??
    (job.flavorId === 'docker' ? Number.POSITIVE_INFINITY : 0);
  const parallel = jobs
    .flatMap((job, index) => (job.flavor.serial ? [] : [index]))
    .sort((a, b) => expected(jobs[b] as Job) - expected(jobs[a] as Job));
  const serial = jobs.flatMap((job, index) => (job.flavor.serial ? [index] : []));
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, parallel.length) }, async () => {
      while (next < parallel.length) await runJob(parallel[next++] as number);
    }),
  );
  for (const index of serial) await runJob(index);
  return results;
}
