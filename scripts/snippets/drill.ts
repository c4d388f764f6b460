import assert from 'node:assert/strict';
import { dockerPracticeValues, runDockerPractice } from './docker-practice.ts';
import { practiceValues, runPractice } from './practice.ts';
import type { SnippetInput, Variant, VerifyContext } from './schema.ts';

/** A drill: one rehearsal on a practice server (practice.ts) and in a practice container (docker-practice.ts). */
export interface PracticeDrill {
  /** The host script, built from practice.ts pieces. */
  host: string;
  /** The Docker script, built from docker-practice.ts pieces. */
  docker: string;
  /** Asserts on what either script printed (on the engine `engineId`); throws when the drill did not show what the page says. */
  check(stdout: string, engineId: string): void;
  /** Variants of the host script (engines that answer differently, or need another script). */
  hostVariants?: Variant[];
  /** More checks of the host run (its practice dir is `ctx.values.scratchDir`). */
  checkHost?(ctx: VerifyContext): Promise<void>;
}

/** Awaits a drill's run, requires exit status 0 and passes its output and engine to `check`. */
async function checked(run: Promise<{ exitCode: number; stdout: string }>, check: PracticeDrill['check'], engineId: string): Promise<void> {
  const { exitCode, stdout } = await run;
  assert.equal(exitCode, 0);
  check(stdout, engineId);
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
        await checked(runPractice(ctx), drill.check, ctx.engine.id);
        await drill.checkHost?.(ctx);
      },
    },
    docker: {
      command: drill.docker,
      server: false,
      values: dockerPracticeValues,
      verify: (ctx) => checked(runDockerPractice(ctx), drill.check, ctx.engine.id),
    },
  };
}
