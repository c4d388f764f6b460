/* eslint-disable @typescript-eslint/unbound-method -- a shared check's setup and verify never use `this`. */
/* eslint-disable @typescript-eslint/no-empty-object-type -- `{}` is the default of a flavor's server options and placeholder values (none declared), which the flavor types infer from. */
import assert from 'node:assert/strict';
import type { ContainerOptions } from '../harness/docker/options.ts';
import type {
  DockerFlavorInput,
  HostFlavorInput,
  PlaceholderValues,
  RedisServerOptions,
  ServerUnderTest,
  VerifyContext,
} from './schema.ts';
import type { PlaceholderName } from './placeholders.ts';

/** The placeholders both flavors' runs fill: the server's address, data dir and file names. */
export type SharedKey = 'host' | 'port' | 'dataDir' | 'dbfilename' | 'appenddirname' | 'appendfilename';

/**
 * What the two flavors of a block share when only their commands differ: the server's config, the
 * state it is put in, and the check, written once against the {@link ServerUnderTest} both run.
 */
export interface SharedCheck<K extends PlaceholderName> {
  /** redis.conf directives of the server, for the host process and the container alike (a flavor's own `server` replaces them). */
  config?: Record<string, string | number | (string | number)[]>;
  /** Puts the server into the state the command expects. */
  setup?(server: ServerUnderTest, scratch: string): Promise<void>;
  /** Upper bound for the whole verification. */
  timeoutMs?: number;
  /** Runs the command through `ctx.run()` and asserts on outcomes; throws when they do not hold. */
  verify(ctx: VerifyContext<ServerUnderTest, K>): Promise<void>;
}

/** What one flavor has of its own: its command, and what else really differs (variants, values, its server's config). */
type Own<F> = string | (Omit<F, 'setup' | 'verify' | 'timeoutMs'> & { command: string });

/**
 * The host and Docker flavors of a block whose check is the same on both: one {@link SharedCheck},
 * and per flavor only what differs. A check reading a placeholder only one flavor fills (`logFile`)
 * names it in `K`; each flavor must then fill it (its `values`).
 */
export function sameCheck<K extends PlaceholderName = SharedKey>(
  shared: SharedCheck<K>,
  own: { host: Own<HostFlavorInput<{}, PlaceholderValues>>; docker: Own<DockerFlavorInput<{}, false, PlaceholderValues>> },
): { host: HostFlavorInput<{}, PlaceholderValues>; docker: DockerFlavorInput<{}, false, PlaceholderValues> } {
  const of = <F>(flavor: Own<F>) => (typeof flavor === 'string' ? { command: flavor } : flavor);
  const common = {
    server: { config: shared.config ?? {} },
    ...(shared.setup ? { setup: shared.setup } : {}),
    ...(shared.timeoutMs === undefined ? {} : { timeoutMs: shared.timeoutMs }),
    verify: shared.verify,
  };
  return { host: { ...common, ...of(own.host) }, docker: { ...common, ...of(own.docker) } };
}

/**
 * Both flavors of a block whose command is `redis-cli ARGS`: on the host with `-h -p`, in Docker
 * through `docker exec` (ARGS may go on into a pipe). It must exit 0; `check` judges what it printed.
 * `servers`: a flavor's own server options, where they differ from `config`.
 */
export function redisCliBlock(
  args: string,
  shared: Omit<SharedCheck<SharedKey>, 'verify'> & {
    check(stdout: string, ctx: VerifyContext<ServerUnderTest, SharedKey>): Promise<void> | void;
  },
  servers: { host?: RedisServerOptions; docker?: ContainerOptions } = {},
): ReturnType<typeof sameCheck> {
  const { check, ...rest } = shared;
  return sameCheck(
    {
      ...rest,
      async verify(ctx) {
        const { exitCode, stdout } = await ctx.run();
        assert.equal(exitCode, 0);
        await check(stdout, ctx);
      },
    },
    {
      host: { command: `redis-cli -h {{host}} -p {{port}} ${args}`, ...(servers.host ? { server: servers.host } : {}) },
      docker: { command: `docker exec {{container}} redis-cli ${args}`, ...(servers.docker ? { server: servers.docker } : {}) },
    },
  );
}
