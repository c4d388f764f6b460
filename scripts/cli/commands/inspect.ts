import { z } from 'zod';
import { DEFAULT_TIMEOUT_MS } from '../../procedures/connect.ts';
import { inspect } from '../../procedures/inspect.ts';
import { aclHelp } from '../../procedures/server-refusal.ts';
import { DEFAULT_REDIS_URL } from '../../procedures/target.ts';
import type { CliCommand } from '../command.ts';
import { assertNoConnectionOptionsWithContainer, connectionArgs, connectionHelp, ConnectionOptionsShape, targetFromOptions } from '../connection-options.ts';
import { containerArgs, containerFromOptions, containerHelp, ContainerOptionsShape } from '../container-options.ts';
import { formatInspectReport } from '../format-inspect.ts';
import { parseOptions } from '../parse-options.ts';

/** The options of `redis-playbook inspect`. */
export const InspectOptionsSchema = z.object({
  /** `redis://[[user]:password@]host[:port][/db]`; the password may come from REDISCLI_AUTH instead. */
  url: z.string().default(DEFAULT_REDIS_URL),
  /** Print the InspectReport as one JSON object instead of the summary. */
  json: z.boolean().default(false),
  /** Connect and command timeout in milliseconds. */
  timeout: z.coerce
    .number({ error: 'expected a number of milliseconds' })
    .int({ error: 'expected a whole number of milliseconds' })
    .min(1, { error: 'expected at least 1 millisecond' })
    .max(600_000, { error: 'expected at most 600000 milliseconds (10 minutes)' })
    .default(DEFAULT_TIMEOUT_MS),
  ...ContainerOptionsShape,
  ...ConnectionOptionsShape,
});
export type InspectOptions = z.input<typeof InspectOptionsSchema>;

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'Where the data lives, how it is persisted, and what a crash can cost',
  options: {
    url: { type: 'string' },
    json: { type: 'boolean' },
    timeout: { type: 'string' },
    ...containerArgs, ...connectionArgs,
  },
  help: `Usage: redis-playbook inspect [--url redis://host:port] [--container NAME | --compose-service SERVICE]
                              [--json] [--timeout MS]

Shows where a Redis server keeps its data (dir, dbfilename, the AOF dir and its files with
sizes and times when the dir is readable from here, or inside the container), how it persists
(save rules, appendonly, appendfsync), the last snapshot and AOF rewrite, maxmemory and its
policy, and the verdict: what a process crash and a power loss can cost, in words and numbers.

Options:
  --url URL                  redis://[[user]:password@]host[:port][/db]  (default ${DEFAULT_REDIS_URL})
${connectionHelp}
  --json                     Print one JSON object (the InspectReport) instead of the summary
  --timeout MS               Connect and command timeout in milliseconds (default ${DEFAULT_TIMEOUT_MS};
                             with a container, per docker exec, plus 10 s for Docker itself)
${containerHelp('Inspect Redis in this container (docker exec NAME redis-cli; files listed inside)')}
  -h, --help                 Show this help

The password comes from the URL or from REDISCLI_AUTH (as for redis-cli); it is never printed, and
with a container it reaches redis-cli as docker exec -e REDISCLI_AUTH (never in a command line).
A container that does not exist exits with 9, one that is not running with 3.
inspect needs CONFIG GET and INFO: if CONFIG is renamed or disabled (rename-command) or not
allowed for the ACL user, it says so and exits with 1.
The verdict describes the running configuration: a setting changed with CONFIG SET and not
written with CONFIG REWRITE is gone after a restart.
${aclHelp('inspect')}.`,
  async run(values, io) {
    const options = parseOptions(InspectOptionsSchema, values);
    const target = targetFromOptions(options, io.env);
    const container = await containerFromOptions(options, io);
    assertNoConnectionOptionsWithContainer(target, container);
    const report = await inspect(target, { timeoutMs: options.timeout, container });
    io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspectReport(report));
    return 0;
  },
};
