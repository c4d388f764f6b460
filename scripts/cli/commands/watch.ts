import { z } from 'zod';
import { DEFAULT_TIMEOUT_MS, withConnection } from '../../procedures/connect.ts';
import { connectContainer } from '../../procedures/container-redis.ts';
import { aclHelp } from '../../procedures/server-refusal.ts';
import { watchPersistence, type WatchEvent } from '../../procedures/watch.ts';
import { defineCommand } from '../command.ts';
import { assertNoConnectionOptionsWithContainer, ConnectionOptionsShape, targetFromOptions, urlOption } from '../connection-options.ts';
import { containerFromOptions, containerOptions } from '../container-options.ts';
import { WatchJsonSchema } from '../json-schemas.ts';

/** The options of `redis-playbook watch`. */
export const WatchOptionsSchema = z.object({
  url: urlOption(),
  ...ConnectionOptionsShape,
  ...containerOptions('Follow Redis in this container (docker exec NAME redis-cli INFO)'),
  for: z.coerce
    .number({ error: 'expected a number of seconds' })
    .positive({ error: 'expected more than 0 seconds' })
    .optional()
    .meta({ value: 'SECONDS', help: 'Stop after this long' }),
  json: z
    .boolean()
    .default(false)
    .meta({ help: 'One JSON object per line (event, time, changesSinceLastSave, durationSec, status, forkUsec)' }),
});

function describe(event: WatchEvent): string {
  const clock = event.time.slice(11, 19);
  const fork = event.forkUsec === undefined ? '' : `, fork took ${(event.forkUsec / 1000).toFixed(1)} ms`;
  const guessed = event.inferred ? ' (started and ended between two polls)' : '';
  switch (event.event) {
    case 'status':
      return `${clock} ${event.changesSinceLastSave} writes not yet in a snapshot`;
    case 'save-started':
      return `${clock} snapshot (BGSAVE) started${fork}${guessed}`;
    case 'save-finished':
      return `${clock} snapshot finished in ${event.durationSec} s`;
    case 'save-error':
      return `${clock} snapshot FAILED (rdb_last_bgsave_status:${event.status}): see the server log`;
    case 'aof-rewrite-started':
      return `${clock} AOF rewrite started${fork}${guessed}`;
    case 'aof-rewrite-finished':
      return `${clock} AOF rewrite finished in ${event.durationSec} s (${event.status})`;
    case 'aof-write-error':
      return `${clock} AOF write FAILED (aof_last_write_status:${event.status}): see the server log`;
  }
}

export const watchCommand = defineCommand({
  name: 'watch',
  summary: 'Follow snapshots and AOF rewrites live: start, end, duration, fork time, errors',
  usage: `Usage: redis-playbook watch [--url redis://host:port] [--container NAME | --compose-service SERVICE]
                            [--for SECONDS] [--json]`,
  description: `Follows persistence by polling INFO ten times a second: snapshots (BGSAVE) and AOF rewrites as
they start and finish (duration, fork time, status), failed saves and AOF writes, and every 5 s
the number of writes not yet in a snapshot. Runs until Ctrl-C, or for SECONDS. Through a
container, each poll is one docker exec, so it polls as fast as Docker answers.`,
  options: WatchOptionsSchema,
  json: WatchJsonSchema,
  jsonLines: true,
  notes: `${aclHelp('watch')}.`,
  async run(options, io) {
    const target = targetFromOptions(options, io.env);
    const abort = new AbortController();
    const stop = () => {
      abort.abort();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const watchOptions = {
        forMs: options.for === undefined ? undefined : options.for * 1000,
        signal: abort.signal,
        onEvent: (event: WatchEvent) => {
          io.stdout(options.json ? `${JSON.stringify(event satisfies z.input<typeof WatchJsonSchema>)}\n` : `${describe(event)}\n`);
        },
      };
      const container = await containerFromOptions(options, io);
      assertNoConnectionOptionsWithContainer(target, container);
      if (container) {
        const { commands } = await connectContainer(container, target, { timeoutMs: DEFAULT_TIMEOUT_MS });
        await watchPersistence(commands, watchOptions);
      } else {
        await withConnection(target, { timeoutMs: DEFAULT_TIMEOUT_MS }, (client) => watchPersistence(client, watchOptions));
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return 0;
  },
});
