/* eslint-disable @typescript-eslint/no-empty-object-type -- `{}` is the default of a flavor's server options and placeholder values (none declared), which the flavor types infer from. */
import { z } from 'zod';
import type { DisposableRedis, RedisServerOptions } from '../harness/redis-server.ts';
import { RedisServerOptionsSchema } from '../harness/redis-server.ts';
import type { RedisContainer } from '../harness/docker/container.ts';
import type { ComposeRedis } from '../harness/docker/compose.ts';
import type { ServerUnderTest } from '../procedures/server-under-test.ts';
import type { Engine } from '../harness/engine.ts';
import type { SystemdRedis } from '../harness/systemd/unit.ts';
import { ContainerOptionsSchema, type ContainerOptions } from '../harness/docker/options.ts';
import { placeholders, placeholdersIn, type PlaceholderName } from './placeholders.ts';
import { engineSpecById } from '../engines/catalog.ts';

export { FlavorIdSchema, flavorLabels, type FlavorId } from '../data/flavors.ts';

/** What running the command printed. */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as a terminal shows them. */
  all: string;
}

/** Placeholder values of a run, by placeholder name (scripts/data/placeholders.ts). */
export type PlaceholderValues = Partial<Record<PlaceholderName, string>>;

/** The values of a run: those named in `K` are there for sure, any other placeholder may be. */
export type Values<K extends PlaceholderName = never> = Readonly<Record<K, string>> & Readonly<PlaceholderValues>;

/**
 * Handed to a verification: the disposable server and a way to run the very command the page shows.
 * `Server` is what the flavor runs: the host flavor's {@link DisposableRedis}, the Docker flavor's
 * {@link RedisContainer} (a {@link ComposeRedis} with `compose: true`), `undefined` with `server: false`;
 * a check both flavors run takes the {@link ServerUnderTest} they share. `K`: the placeholders the
 * run surely has a value for (the server's, and those the flavor's `values` returns).
 */
export interface VerifyContext<Server = DisposableRedis, K extends PlaceholderName = never> {
  /** The disposable server of the scenario (`undefined` only when the flavor declares `server: false`). */
  server: Server;
  /** A temp dir of this verification, removed afterwards. */
  scratch: string;
  /** The placeholder values used for this run (the disposable server's port, dir, container name, …). */
  values: Values<K>;
  /** The command as the page shows it, filled with {@link values}. */
  command: string;
  /**
   * The engine under test. Everything a verification starts (servers, checkers, redis-cli, the
   * benchmark) is this engine's: call its programs by {@link Engine} fields, never by a bare name.
   */
  engine: Engine;
  /**
   * Aborted when the verification's time is up. The project's runner, waits and servers stop by
   * themselves then; give it to anything else that runs long (execa's `cancelSignal`).
   */
  signal: AbortSignal;
  /**
   * Disposes of something the verification made (a server, a container, a dir) after it, whether it
   * passed, failed or ran out of time; last deferred first, before the scenario's own server goes.
   */
  defer(dispose: () => Promise<void> | void): void;
  /**
   * `rest` behind the engine's programs and the fence over every other engine's (the PATH the page's
   * command gets: scripts/verify/engine-path.ts). A verification that gives the command its own PATH
   * (cron's bare `/usr/bin:/bin`) builds it with this; run() refuses a PATH not built so. `other`:
   * another engine's programs instead, for a block marked `crossEngine` only.
   */
  enginePath(rest: string, other?: Engine): Promise<string>;
  /**
   * Records the identity (INFO server) of a server the verification started itself (a server run as
   * the service user, each engine of a cross-engine block): the report names what answered.
   */
  identify(target: { host: string; port: number | string; password?: string | undefined; engine?: Engine }): Promise<void>;
  /**
   * Runs {@link command} with bash, as a reader pasting it would, and records its output for the page.
   * `env` adds variables (e.g. REDISCLI_AUTH); the server's password is added automatically. Docker
   * flavors run it in the Compose project dir with `COMPOSE_PROJECT_NAME` set (see run-snippet.ts).
   */
  run(options?: { env?: Record<string, string>; input?: string; timeoutMs?: number }): Promise<CommandResult>;
  /** Debian's redis-server unit under systemd, for a flavor with `systemd: true`; undefined otherwise. */
  service?: SystemdRedis;
  /** Adds a line to the recorded output (e.g. a count the verification measured). */
  note(text: string): void;
  /**
   * Records a number the verification measured under a name (bytes, keys, ms), kept in the report:
   * a page renders it with <Measured id=… name=…/> instead of typing it beside a looser bound.
   */
  measure(name: string, value: number): void;
}

/** Handed to a flavor's `values`: the server (as in {@link VerifyContext}) and the run's scratch dir. */
export interface ValuesContext<Server = DisposableRedis> {
  server: Server;
  scratch: string;
  engine: Engine;
  /** As {@link VerifyContext.defer}: a server started here for the command is disposed after the run. */
  defer(dispose: () => Promise<void> | void): void;
  /** As {@link VerifyContext.identify}: a server started here that the command reaches. */
  identify: VerifyContext['identify'];
}

export type VerifyFn<Server = DisposableRedis, K extends PlaceholderName = never> = (ctx: VerifyContext<Server, K>) => Promise<void>;
export type SetupFn<Server = DisposableRedis> = (server: Server, scratch: string) => Promise<void>;
export type ValuesFn<Server, V extends PlaceholderValues> = (ctx: ValuesContext<Server>) => Promise<V> | V;

/**
 * What the runner calls: it builds the context from the flavor's declared server and values. Checked
 * both ways (method parameters), so a flavor built by a helper without its own types still fits.
 */
type RunnerVerifyFn = { check(ctx: VerifyContext<never, PlaceholderName>): Promise<void> }['check'];
type RunnerValuesFn = { values(ctx: ValuesContext<never>): Promise<PlaceholderValues> | PlaceholderValues }['values'];
type RunnerSetupFn = { setup(server: never, scratch: string): Promise<void> }['setup'];

const fn = <T>(what: string) => z.custom<T>((value) => typeof value === 'function', { error: `Expected ${what} to be a function` });

const catalogIds = z
  .array(z.string())
  .min(1)
  .refine((ids) => ids.every((id) => engineSpecById(id) !== undefined), 'Expected engine ids of the catalog (scripts/engines/catalog.ts)');

/**
 * What a block does differently on some engines (Redis 6.0 keeps one `appendonly.aof` and has no
 * `appendonlydir`; valkey-check-aof 9.1 misreads its own RDB base): the page shows it under the main
 * command, labelled with the engines and why. With a `command`, verify runs that on those engines
 * instead; without one, the main command runs there and the note says what differs (another answer,
 * a refusal), which the verification asserts.
 */
export const VariantSchema = z.object({
  /** The engines (catalog ids) that run this command instead of the main one. */
  engines: catalogIds,
  /** Who it is for, as the page labels it ("Redis 6.0"). */
  label: z.string().min(1),
  /** Why these engines need another command, one sentence for the reader. */
  why: z.string().min(1),
  /** The command for them, with the same `{{placeholder}}` markers as the main one; none: they run the main one. */
  command: z.string().min(1).optional(),
});
export type Variant = z.infer<typeof VariantSchema>;

/** Fields every flavor has, whatever runs its server. */
const flavorFields = {
  /** The command exactly as the reader sees it, with `{{placeholder}}` markers (see placeholders.ts). */
  command: z.string().min(1),
  /** Other commands for engines that differ (see {@link VariantSchema}); each engine in one at most. */
  variants: z
    .array(VariantSchema)
    .default([])
    .refine(
      (variants) => new Set(variants.flatMap((variant) => variant.engines)).size === variants.flatMap((variant) => variant.engines).length,
      'An engine may have one variant at most',
    ),
  /** Syntax highlighting language of the block. */
  lang: z.enum(['sh', 'yaml', 'conf', 'cron']).default('sh'),
  /** Must run alone (heavy on CPU, memory or time). */
  serial: z.boolean().default(false),
  /** Upper bound for the whole verification. */
  timeoutMs: z.number().int().positive().default(60_000),
};

function knownPlaceholders(flavor: { command: string; variants?: readonly Variant[] | undefined }, ctx: z.RefinementCtx): void {
  const texts: [string, (string | number)[]][] = [
    [flavor.command, ['command']],
    ...(flavor.variants ?? []).flatMap((variant, index): [string, (string | number)[]][] =>
      variant.command === undefined ? [] : [[variant.command, ['variants', index, 'command']]],
    ),
  ];
  for (const [text, path] of texts) {
    for (const name of placeholdersIn(text)) {
      if (!(name in placeholders)) ctx.addIssue({ code: 'custom', message: `Unknown placeholder {{${name}}}`, path });
    }
  }
}

/** The variant of a flavor an engine runs, if any. */
export function variantFor(flavor: { variants?: readonly Variant[] | undefined }, engineId: string): Variant | undefined {
  return flavor.variants?.find((variant) => variant.engines.includes(engineId));
}

/** The command an engine runs for a flavor: its variant's, else the main one. */
export function commandFor(flavor: { command: string; variants?: readonly Variant[] | undefined }, engineId: string): string {
  return variantFor(flavor, engineId)?.command ?? flavor.command;
}

/** One flavor of a command block run against a host process: the text shown and the check that proves it. */
export const FlavorSchema = z
  .object({
    ...flavorFields,
    /** Config of the disposable server; `false` when the command brings its own (a practice server). */
    server: z.union([RedisServerOptionsSchema, z.literal(false)]).prefault({}),
    /**
     * Run the command on Debian's packaged Redis under a real systemd instead (a container with
     * systemd as PID 1: scripts/harness/systemd/unit.ts): for blocks where the service manager is the
     * point (`systemctl stop`, Restart=always). The command runs in it as root; `ctx.service` is the
     * unit. Only with `engines: ['redis-7.0']` (the package is bookworm's) and `server: false`.
     */
    systemd: z.boolean().default(false),
    /** Puts the server into the state the command expects (keys, a save, …). */
    setup: fn<RunnerSetupFn>('setup').optional(),
    /** Extra placeholder values for this run (paths inside scratch, …). */
    values: fn<RunnerValuesFn>('values').optional(),
    /** Runs the command through `ctx.run()` and asserts on outcomes; throws when they do not hold. */
    verify: fn<RunnerVerifyFn>('verify'),
  })
  .superRefine(knownPlaceholders);
export type HostFlavor = z.output<typeof FlavorSchema>;

/**
 * The Docker flavor of a command block: the server runs in a disposable container (or Compose
 * project) from the playbook's image, and the command runs on the host with bash, where `docker`
 * reaches it. Placeholders `container`, `volume`, `service`, `project`, `image` get the run's unique
 * values; `dataDir` is `/data`. Skipped when Docker is missing, failed then if `PLAYBOOK_REQUIRE_ALL=1`.
 */
export const DockerFlavorSchema = z
  .object({
    ...flavorFields,
    /**
     * The disposable container's config (given to `redis-server` as options, as a compose file's
     * `command:` does); `false` when the verification starts what it needs itself.
     */
    server: z.union([ContainerOptionsSchema, z.literal(false)]).prefault({}),
    /**
     * Run the server as a Compose project (service `redis`, run from its project dir, so commands like
     * `docker compose stop redis` act on it) instead of a plain `docker run` container.
     */
    compose: z.boolean().default(false),
    /**
     * A block that moves the Compose service from one image to another (an upgrade, and its undo):
     * the engine whose image the project starts on, `{{image}}`; `{{newImage}}` is the image of the
     * engine under test, the one the block moves to. Each server that answers is recorded with its
     * image. Needs `compose: true`, and the snippet `crossEngine` with `engines` that leave this one out.
     */
    upgradeFrom: z.string().optional(),
    /** Puts the server into the state the command expects (keys, a save, …). */
    setup: fn<RunnerSetupFn>('setup').optional(),
    /** Extra placeholder values for this run. */
    values: fn<RunnerValuesFn>('values').optional(),
    /** Runs the command through `ctx.run()` and asserts on outcomes; throws when they do not hold. */
    verify: fn<RunnerVerifyFn>('verify'),
  })
  .superRefine(knownPlaceholders);
export type DockerFlavor = z.output<typeof DockerFlavorSchema>;

/** A flavor of either kind (what the site renders: `command`, `lang`). */
export type Flavor = HostFlavor | DockerFlavor;

/** A command block: defined once here, rendered by the site, executed by `npm run verify`. */
export const SnippetSchema = z
  .object({
    /** Stable id used by `<Snippet id=…/>` and the report. */
    id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lower-case words joined by dashes'),
    /** The task in a few words ("Find the data directory"). */
    title: z.string().min(1),
    /** The page that shows it: path under content/docs without extension. */
    page: z.string().min(1),
    /**
     * Runs other engines besides the one under test by design (the versions page's cross-loads): each
     * server it starts is recorded with `ctx.identify(…, engine)`; every other block may only reach its engine.
     */
    crossEngine: z.boolean().default(false),
    /**
     * The engines it is verified on, when not every engine a run asks for: a block whose server is not
     * this machine's program of the engine (the power-loss VM boots Debian bookworm's Redis 7.0 from its
     * own image, scripts/harness/vm). Undefined: every engine.
     */
    engines: catalogIds.optional(),
    /** The flavors of the block; at least one. */
    flavors: z
      .object({ host: FlavorSchema.optional(), docker: DockerFlavorSchema.optional() })
      .refine((flavors) => Object.values(flavors).some(Boolean), 'A snippet needs at least one flavor'),
  })
  .refine(
    (snippet) => {
      const from = snippet.flavors.docker?.upgradeFrom;
      return (
        from === undefined ||
        (snippet.flavors.docker?.compose === true &&
          snippet.crossEngine &&
          engineSpecById(from) !== undefined &&
          snippet.engines !== undefined &&
          !snippet.engines.includes(from))
      );
    },
    {
      error:
        'A Docker flavor with upgradeFrom moves a Compose service between engines: it needs compose: true, crossEngine: true, an engine id of the catalog, and engines without that engine',
      path: ['flavors', 'docker', 'upgradeFrom'],
    },
  )
  .refine(
    (snippet) =>
      !snippet.flavors.host?.systemd ||
      (snippet.flavors.host.server === false && snippet.engines?.length === 1 && snippet.engines[0] === 'redis-7.0'),
    {
      error: "A host flavor with systemd: true runs Debian bookworm's package: it needs server: false and engines: ['redis-7.0']",
      path: ['flavors', 'host', 'systemd'],
    },
  );
export type Snippet = z.output<typeof SnippetSchema>;
export type SnippetInput = z.input<typeof SnippetSchema>;

/** The file-name placeholders every run has (Redis's defaults, or the names the server's config gives). */
type FileKeys = 'dbfilename' | 'appenddirname' | 'appendfilename';
/** Keys of an object type that are placeholder names. */
type Named<V> = keyof V & PlaceholderName;

/** The host flavor's server: none with `server: false`. */
export type HostServer<S> = [S] extends [false] ? undefined : DisposableRedis;
/** The placeholders a host run always fills: the file names, and the server's address and data dir. */
type HostKeys<S> = FileKeys | ([S] extends [false] ? never : 'host' | 'port' | 'dataDir');

/** The Docker flavor's server: none with `server: false`, a {@link ComposeRedis} with `compose: true`. */
export type DockerServer<S, C> = [S] extends [false] ? undefined : [C] extends [true] ? ComposeRedis : RedisContainer;
/** The placeholders a Docker run always fills (the container's names when it starts one, the project's with Compose). */
type DockerKeys<S, C> =
  | FileKeys
  | 'host'
  | 'port'
  | 'dataDir'
  | 'image'
  | ([S] extends [false] ? never : 'container' | 'volume' | ([C] extends [true] ? 'service' | 'project' : never));

/** A host flavor as written: `ctx.server` and `ctx.values` typed by what it declares. */
export type HostFlavorInput<S extends RedisServerOptions | false, V extends PlaceholderValues> = Omit<
  z.input<typeof FlavorSchema>,
  'server' | 'setup' | 'values' | 'verify'
> & {
  server?: S;
  // Methods, so their parameters are checked both ways: a flavor a helper built without these types still fits.
  setup?(server: DisposableRedis, scratch: string): Promise<void>;
  values?(ctx: ValuesContext<HostServer<S>>): Promise<V> | V;
  verify(ctx: VerifyContext<HostServer<S>, HostKeys<S> | Named<V>>): Promise<void>;
};

/** A Docker flavor as written: `ctx.server` and `ctx.values` typed by what it declares. */
export type DockerFlavorInput<S extends ContainerOptions | false, C extends boolean, V extends PlaceholderValues> = Omit<
  z.input<typeof DockerFlavorSchema>,
  'server' | 'compose' | 'setup' | 'values' | 'verify'
> & {
  server?: S;
  compose?: C;
  setup?(server: DockerServer<{}, C>, scratch: string): Promise<void>;
  values?(ctx: ValuesContext<DockerServer<S, C>>): Promise<V> | V;
  verify(ctx: VerifyContext<DockerServer<S, C>, DockerKeys<S, C> | Named<V>>): Promise<void>;
};

/** A snippet as written, its flavors typed by what each declares. */
export type TypedSnippetInput<
  HS extends RedisServerOptions | false,
  HV extends PlaceholderValues,
  DS extends ContainerOptions | false,
  DC extends boolean,
  DV extends PlaceholderValues,
> = Omit<SnippetInput, 'flavors'> & {
  flavors: { host?: HostFlavorInput<HS, HV>; docker?: DockerFlavorInput<DS, DC, DV> };
};

/**
 * Declares a snippet; validated when the registry loads. A flavor's `verify` gets `ctx.server` as the
 * server it declares (none with `server: false`) and `ctx.values` with the placeholders its run fills.
 */
export function defineSnippet<
  HS extends RedisServerOptions | false = {},
  HV extends PlaceholderValues = {},
  DS extends ContainerOptions | false = {},
  DC extends boolean = false,
  DV extends PlaceholderValues = {},
>(snippet: TypedSnippetInput<HS, HV, DS, DC, DV>): SnippetInput {
  return snippet;
}

/** A host flavor defined apart from its snippet (shared by several), typed as {@link defineSnippet} types it. */
export function hostFlavor<S extends RedisServerOptions | false = {}, V extends PlaceholderValues = {}>(
  flavor: HostFlavorInput<S, V>,
): HostFlavorInput<S, V> {
  return flavor;
}

/** A Docker flavor defined apart from its snippet (shared by several), typed as {@link defineSnippet} types it. */
export function dockerFlavor<S extends ContainerOptions | false = {}, C extends boolean = false, V extends PlaceholderValues = {}>(
  flavor: DockerFlavorInput<S, C, V>,
): DockerFlavorInput<S, C, V> {
  return flavor;
}

export type { RedisServerOptions, ServerUnderTest };
