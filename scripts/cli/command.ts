/**
 * A `redis-playbook` command is declared once, with {@link defineCommand}: its options are ONE zod
 * object, and the `node:util` parseArgs config, the validation and the Options section of its `--help`
 * are generated from it (so is the CLI reference page, `npm run cli-reference`).
 *
 * How to add an option (or convert one written the old way, as a parseArgs entry, a schema field and
 * a help line): add one field to the command's `options` object, with its help in `.meta()`:
 *
 *   cluster: z.string().min(1, { error: 'expected host:port' }).optional()
 *     .meta({ value: 'HOST:PORT', help: 'Back up every primary of this cluster, one folder each' }),
 *
 * - `help`: its text in `--help`; a `\n` starts a continuation line, laid out under the first.
 * - `value`: the value's name (`DIR`, `N`); absent for a boolean flag (a `z.boolean()` field).
 * - `short`: a one-letter alias (`-t`); `env`: the environment variable that stands in for it.
 * - `positional: true`: an argument, not an option (`check <backup>`), in the order of the fields.
 * - `group`: the shared group it belongs to (connection, container, server), for the reference page.
 * Put `.meta()` last (after `.optional()` / `.default()`). A shared group is one shape spread into the
 * object (`...ContainerOptionsShape`); a command that says an option's help in its own words calls
 * `.meta({ help })` on that field (`ContainerOptionsShape.container.meta({ help: '…' })`), which
 * keeps the rest of the meta. Field order is the order of `--help`.
 * A `z.boolean()` field is a flag; every other field takes a string that the schema coerces.
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import { z } from 'zod';
import { parseOptions } from './parse-options.ts';

/** Where a command writes and what it reads from its environment (the real process, or a test's). */
export interface CliIo {
  /** Writes to standard output (the text is written as is). */
  stdout: (text: string) => void;
  /** Writes to standard error (the text is written as is). */
  stderr: (text: string) => void;
  /** Environment variables (REDISCLI_AUTH…). */
  env: NodeJS.ProcessEnv;
}

/** What an option says about itself, in its schema's `.meta()` (see the top of this file). */
export const OptionMetaSchema = z.object({
  /** Its line(s) in `--help`; `\n` starts a continuation line. */
  help: z.string().min(1),
  /** The value's name in `--help` (`DIR`); absent for a flag. */
  value: z.string().min(1).optional(),
  /** A one-letter alias. */
  short: z.string().length(1).optional(),
  /** The environment variable that stands in for it, or for a part of it (REDISCLI_AUTH for the URL's password). */
  env: z.string().min(1).optional(),
  /** An argument rather than an option. */
  positional: z.boolean().optional(),
  /** The shared option group it comes from (connection, container, server). */
  group: z.string().min(1).optional(),
});
export type OptionMeta = z.infer<typeof OptionMetaSchema>;

/** The object schema of a command's options. */
export type OptionsSchema = z.ZodObject<z.ZodRawShape>;

/** One option of a command, as the help, the parser and the reference page read it. */
export interface OptionInfo {
  name: string;
  meta: OptionMeta;
  /** True for a flag (a boolean field). */
  flag: boolean;
  /** Whether it may be left out (it is optional or has a default). */
  optional: boolean;
  /** Its default when left out, if any. */
  default: unknown;
}

/** One subcommand of `redis-playbook`. */
export interface CliCommand {
  /** The word after `redis-playbook`. */
  name: string;
  /** One line for the command list in `redis-playbook --help`. */
  summary: string;
  /** The full text of `redis-playbook <name> --help`. */
  help: string;
  /** Its options for `node:util` parseArgs (`--help` is added by the dispatcher). */
  options: ParseArgsOptionsConfig;
  /**
   * Names of its positional arguments, in order (`check <backup>` has `['backup']`); each becomes a
   * value under that name. More arguments than names is a usage error; a missing one is left undefined
   * for the command's schema to report.
   */
  positionals?: readonly string[];
  /** The schema its options are declared in. */
  schema: OptionsSchema;
  /** The schema of what `--json` prints: one object, or one per line when `jsonLines`. */
  json: z.ZodType;
  /** True when `--json` prints one object per line (watch). */
  jsonLines: boolean;
  /** Its usage lines. */
  usage: string;
  /** The text after the usage lines and before the options. */
  description: string;
  /** The text after the options (environment, ACL rules), if any. */
  notes: string | undefined;
  /** Runs with the parsed option values; resolves to the exit code, throws a PlaybookError on failure. */
  run: (values: Record<string, string | boolean | undefined>, io: CliIo) => Promise<number>;
}

/** The schemas a field is wrapped in (optional, default, a pipe's input), outermost first. */
function layers(schema: z.ZodType): z.ZodType[] {
  const chain: z.ZodType[] = [];
  let current: z.ZodType | undefined = schema;
  while (current) {
    chain.push(current);
    const def = current._zod.def as { innerType?: z.ZodType; in?: z.ZodType };
    current = def.innerType ?? def.in;
  }
  return chain;
}

/** The options of a command's schema, in field order, with their meta (a field without help is an error). */
export function optionsOf(schema: OptionsSchema): OptionInfo[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const chain = layers(field as z.ZodType);
    const merged = Object.assign({}, ...chain.toReversed().map((layer) => z.globalRegistry.get(layer) ?? {})) as Record<string, unknown>;
    const parsed = OptionMetaSchema.safeParse(merged);
    if (!parsed.success) throw new Error(`Option --${name} has no valid .meta({ help }): ${parsed.error.issues[0]?.message ?? ''}`);
    const withDefault = chain.find((layer) => layer._zod.def.type === 'default') as z.ZodDefault | undefined;
    return {
      name,
      meta: parsed.data,
      flag: chain.some((layer) => layer._zod.def.type === 'boolean'),
      optional: (field as z.ZodType).safeParse(undefined).success,
      default: withDefault?._zod.def.defaultValue,
    };
  });
}

/** Where the text of an option starts in `--help` (after `  --compose-service SERVICE  `). */
const HELP_COLUMN = 29;

/** `--name VALUE` (with `-s, ` before it for an alias). */
export function optionLabel(option: OptionInfo): string {
  const long = `--${option.name}${option.meta.value ? ` ${option.meta.value}` : ''}`;
  return option.meta.short ? `-${option.meta.short}, ${long}` : long;
}

/** One entry of the Options section: the label, then the help from {@link HELP_COLUMN}, continuation lines under it. */
export function helpEntry(label: string, help: string): string {
  const pad = ' '.repeat(HELP_COLUMN);
  const [first = '', ...rest] = help.split('\n');
  const head = `  ${label}`;
  const lines = head.length + 2 <= HELP_COLUMN ? [`${head.padEnd(HELP_COLUMN)}${first}`] : [head, `${pad}${first}`];
  return [...lines, ...rest.map((line) => `${pad}${line}`)].join('\n');
}

/** The Options section of a command's `--help`, from its schema (with `-h, --help` last). */
export function optionsHelp(schema: OptionsSchema): string {
  const entries = optionsOf(schema)
    .filter((option) => !option.meta.positional)
    .map((option) => helpEntry(optionLabel(option), option.meta.help));
  return [...entries, helpEntry('-h, --help', 'Show this help')].join('\n');
}

/** The `node:util` parseArgs config of a command's options (positionals left out). */
export function parseArgsConfig(schema: OptionsSchema): ParseArgsOptionsConfig {
  const config: ParseArgsOptionsConfig = {};
  for (const option of optionsOf(schema)) {
    if (option.meta.positional) continue;
    config[option.name] = { type: option.flag ? 'boolean' : 'string', ...(option.meta.short ? { short: option.meta.short } : {}) };
  }
  return config;
}

/** What a command is declared with. */
export interface CommandSpec<S extends OptionsSchema, J extends z.ZodType> {
  name: string;
  summary: string;
  /** Its usage lines (`Usage: redis-playbook check <backup> …`). */
  usage: string;
  /** What it does, before the options. */
  description: string;
  /** Its options and arguments: the one declaration (see the top of this file). */
  options: S;
  /** The schema of its `--json` output. */
  json: J;
  /** True when `--json` prints one object per line rather than one object. */
  jsonLines?: boolean;
  /** Text after the options (environment variables, ACL rules). */
  notes?: string;
  /** Runs with the validated options; resolves to the exit code. */
  run: (options: z.output<S>, io: CliIo) => Promise<number>;
}

/** A command from its one declaration: parseArgs config, validation and `--help` are generated. */
export function defineCommand<S extends OptionsSchema, J extends z.ZodType>(spec: CommandSpec<S, J>): CliCommand {
  const positionals = optionsOf(spec.options)
    .filter((option) => option.meta.positional)
    .map((option) => option.name);
  const help = [spec.usage, spec.description, `Options:\n${optionsHelp(spec.options)}`, ...(spec.notes ? [spec.notes] : [])].join('\n\n');
  return {
    name: spec.name,
    summary: spec.summary,
    help,
    options: parseArgsConfig(spec.options),
    ...(positionals.length > 0 ? { positionals } : {}),
    schema: spec.options,
    json: spec.json,
    jsonLines: spec.jsonLines === true,
    usage: spec.usage,
    description: spec.description,
    notes: spec.notes,
    run: async (values, io) => spec.run(parseOptions(spec.options, values), io),
  };
}

/**
 * The text a command prints for `--json`: `value`, indented. Its type is the schema's, so the compiler
 * holds the output to it; the tests parse what the CLI printed with the same schema.
 */
export function jsonText<J extends z.ZodType>(_schema: J, value: z.input<J>): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
