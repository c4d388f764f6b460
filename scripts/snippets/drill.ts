import assert from 'node:assert/strict';
import { dockerPracticeValues, runDockerPractice } from './docker-practice.ts';
import { practiceValues, runPractice } from './practice.ts';
import type { PlaceholderValues, SnippetInput, ValuesFn, Variant, VerifyContext } from './schema.ts';

/** A drill: one rehearsal on a practice server (practice.ts) and in a practice container (docker-practice.ts). */
export interface PracticeDrill {
  /** The host script, built from practice.ts pieces. */
  host: string;
  /** Other host scripts for engines that differ (Redis 6.0's one-file AOF), see variants.ts. */
  hostVariants?: Variant[];
  /** The Docker script, built from docker-practice.ts pieces. */
  docker: string;
  /** Other Docker scripts for engines that differ, see variants.ts. */
  dockerVariants?: Variant[];
  /** The Docker run's values, when it needs more than a unique `{{project}}` (a `{{scratchDir}}`). */
  dockerValues?: ValuesFn<unknown, { project: string } & PlaceholderValues>;
  /** Asserts on what either script printed (by the engine that ran it); throws when the drill did not show what the page says. */
  check(stdout: string, engineId: string): void;
  /** More checks of the host run (its practice dir is `ctx.values.scratchDir`). */
  checkHost?(ctx: VerifyContext): Promise<void>;
}

/** Awaits a drill's run, requires exit status 0 and passes its output to `check`. */
async function checked(run: Promise<{ exitCode: number; stdout: string }>, check: (stdout: string) => void): Promise<void> {
  const { exitCode, stdout } = await run;
  assert.equal(exitCode, 0);
  check(stdout);
}

/**
 * The flavors of a drill block, for `defineSnippet({ id: '…', …, flavors: drillFlavors(…) })` (a literal
 * id in a defineSnippet call, which the badges' fingerprint looks for): each flavor runs its script on
 * its own practice server or container (removed afterwards whatever happened), requires exit status 0
 * and passes the output to `check`.
 */
export function drillFlavors(drill: PracticeDrill): SnippetInput['flavors'] {
  return {
    host: {
      command: drill.host,
      variants: drill.hostVariants ?? [],
      server: false,
      values: practiceValues,
      async verify(ctx) {
        await checked(runPractice(ctx), (stdout) => {
          drill.check(stdout, ctx.engine.id);
        });
        await drill.checkHost?.(ctx);
      },
    },
    docker: {
      command: drill.docker,
      variants: drill.dockerVariants ?? [],
      server: false,
      values: drill.dockerValues ?? dockerPracticeValues,
      verify: (ctx) =>
        checked(runDockerPractice(ctx), (stdout) => {
          drill.check(stdout, ctx.engine.id);
        }),
    },
  };
}
