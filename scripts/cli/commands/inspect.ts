import { z } from 'zod';
import { DEFAULT_TIMEOUT_MS } from '../../procedures/connect.ts';
import { inspect } from '../../procedures/inspect.ts';
import { aclHelp } from '../../procedures/server-refusal.ts';
import { DEFAULT_REDIS_URL } from '../../procedures/target.ts';
import { defineCommand, jsonText } from '../command.ts';
import { assertNoConnectionOptionsWithContainer, ConnectionOptionsShape, targetFromOptions, urlOption } from '../connection-options.ts';
import { containerFromOptions, containerOptions } from '../container-options.ts';
import { formatInspectReport } from '../format-inspect.ts';
import { InspectJsonSchema } from '../json-schemas.ts';

/** The options of `redis-playbook inspect`. */
export const InspectOptionsSchema = z.object({
  url: urlOption(`redis://[[user]:password@]host[:port][/db]  (default ${DEFAULT_REDIS_URL})`),
  ...ConnectionOptionsShape,
  json: z.boolean().default(false).meta({ help: 'Print one JSON object (the InspectReport) instead of the summary' }),
  timeout: z.coerce
    .number({ error: 'expected a number of milliseconds' })
    .int({ error: 'expected a whole number of milliseconds' })
    .min(1, { error: 'expected at least 1 millisecond' })
    .max(600_000, { error: 'expected at most 600000 milliseconds (10 minutes)' })
    .default(DEFAULT_TIMEOUT_MS)
    .meta({
      value: 'MS',
      help: `Connect and command timeout in milliseconds (default ${DEFAULT_TIMEOUT_MS};\nwith a container, per docker exec, plus 10 s for Docker itself)`,
    }),
  ...containerOptions('Inspect Redis in this container (docker exec NAME redis-cli; files listed inside)'),
});
export type InspectOptions = z.input<typeof InspectOptionsSchema>;

export const inspectCommand = defineCommand({
  name: 'inspect',
  summary: 'Where the data lives, how it is persisted, and what a crash can cost',
  usage: `Usage: redis-playbook inspect [--url redis://host:port] [--container NAME | --compose-service SERVICE]
                              [--json] [--timeout MS]`,
  description: `Shows where a Redis server keeps its data (dir, dbfilename, the AOF dir and its files with
sizes and times when the dir is readable from here, or inside the container), how it persists
(save rules, appendonly, appendfsync), the last snapshot and AOF rewrite, maxmemory and its
policy, and the verdict: what a process crash and a power loss can cost, in words and numbers.`,
  options: InspectOptionsSchema,
  json: InspectJsonSchema,
  notes: `The password comes from the URL or from REDISCLI_AUTH (as for redis-cli); it is never printed, and
with a container it reaches redis-cli as docker exec -e REDISCLI_AUTH (never in a command line).
A container that does not exist exits with 9, one that is not running with 3.
inspect needs CONFIG GET and INFO: if CONFIG is renamed or disabled (rename-command) or not
allowed for the ACL user, it says so and exits with 1.
The verdict describes the running configuration: a setting changed with CONFIG SET and not
written with CONFIG REWRITE is gone after a restart.
${aclHelp('inspect')}.`,
  async run(options, io) {
    const target = targetFromOptions(options, io.env);
    const container = await containerFromOptions(options, io);
    assertNoConnectionOptionsWithContainer(target, container);
    const report = await inspect(target, { timeoutMs: options.timeout, container });
    io.stdout(options.json ? jsonText(InspectJsonSchema, report) : formatInspectReport(report));
    return 0;
  },
});
