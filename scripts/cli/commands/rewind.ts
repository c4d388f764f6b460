import { resolve } from 'node:path';
import { z } from 'zod';
import { rewindContainer } from '../../procedures/container-rewind.ts';
import { CONTAINER_DATA_DIR } from '../../procedures/container-restore.ts';
import { isoSeconds, parseRewindTime, rewind, type RewindResult } from '../../procedures/rewind.ts';
import { parseRedisUrl } from '../../procedures/target.ts';
import { defineCommand, jsonText, type CliIo } from '../command.ts';
import {
  containerFromOptions,
  containerOptions,
  containerProgress,
  ContainerUrlOptionShape,
  DataDirOptionShape,
  requireDataDirOrContainer,
} from '../container-options.ts';
import { RewindJsonSchema } from '../json-schemas.ts';
import { engineFromServerOption, ServerOptionShape } from '../server-option.ts';

/** The options of `redis-playbook rewind`. */
export const RewindOptionsSchema = z
  .object({
    ...DataDirOptionShape,
    ...containerOptions('Rewind Redis in this container (docker stop, docker run --rm, docker start)'),
    ...ContainerUrlOptionShape,
    to: z.string({ error: 'say when to go back to (--to 2026-12-02T14:05:00Z, or Unix seconds)' }).min(1).meta({
      value: 'TIME',
      help: 'ISO 8601 with a zone (2026-12-02T14:05:00Z, 2026-12-02T15:05:00+01:00)\nor Unix seconds; the writes of that second are kept',
    }),
    server: ServerOptionShape.server.meta({
      help: 'The server program that wrote the AOF (default redis-server on PATH; e.g.\n/usr/bin/valkey-server): its own checker cuts and checks the AOF',
    }),
    appenddirname: z
      .string()
      .min(1)
      .optional()
      .meta({ value: 'NAME', help: "The AOF dir's name when it is not the default (appendonlydir)" }),
    appendfilename: z
      .string()
      .min(1)
      .optional()
      .meta({ value: 'NAME', help: "The AOF files' base name when it is not the default (appendonly.aof)" }),
    json: z.boolean().default(false).meta({ help: 'Print one JSON object' }),
  })
  .superRefine(requireDataDirOrContainer);

const time = (seconds: number | undefined) => (seconds === undefined ? null : isoSeconds(seconds));

export const rewindCommand = defineCommand({
  name: 'rewind',
  summary: "Roll a stopped server's AOF back to a second in time (aof-timestamp-enabled yes)",
  usage: `Usage: redis-playbook rewind --data-dir DIR --to TIME [--server PROGRAM] [--json]
       redis-playbook rewind --container NAME | --compose-service SERVICE --to TIME
                             [--data-dir DIR] [--url URL] [--json]`,
  description: `Point-in-time rollback, to undo bad writes or a FLUSHALL. With the server STOPPED and its AOF written
with aof-timestamp-enabled yes (Redis 7.0+, Valkey), cuts every write logged after TIME, so the next
normal start loads the data as it was at the end of that second:
  1. refuses while a redis-server still runs on DIR, and refuses an AOF without timestamps, a TIME
     before the AOF's last rewrite (the earliest time it reaches is named: older history is only in
     backups) or in the future; nothing is touched then;
  2. copies the whole AOF dir into DIR/pre-rewind-<UTC time>/ (nothing is deleted: that folder is
     the undo);
  3. cuts the AOF with the server's own checker (redis-check-aof --truncate-to-timestamp TIME), then
     checks the result with it; a failed cut or check puts the original files back.
When nothing was written after TIME, nothing is changed. To undo: stop the server, move the AOF dir
aside, move the pre-rewind copy back, start.

With --container (or --compose-service) the CLI does it for Redis in a container: it reads the AOF
(docker cp) and decides the refusals while the container still runs; then docker stop, the copy and
the cut in a throwaway container of the same image on its volumes (the image's own checker), docker
start, and a wait until Redis answers with its data loaded. The data dir (default ${CONTAINER_DATA_DIR})
must be on a volume or bind mount.`,
  options: RewindOptionsSchema,
  json: RewindJsonSchema,
  async run(options, io) {
    const to = parseRewindTime(options.to);
    const container = await containerFromOptions(options, io);
    let result: RewindResult & { container?: string };
    if (container) {
      result = await rewindContainer({
        container,
        dataDir: options['data-dir'],
        to,
        target: parseRedisUrl(options.url, io.env),
        appenddirname: options.appenddirname,
        appendfilename: options.appendfilename,
        onProgress: containerProgress(io, 'cutting the AOF in'),
      });
    } else {
      const dataDir = resolve(options['data-dir'] as string);
      const engine = await engineFromServerOption(options.server);
      result = await rewind({ dataDir, to, engine, appenddirname: options.appenddirname, appendfilename: options.appendfilename });
    }
    return report(result, to, options.json, io);
  },
});

/** Prints the outcome of a rewind. */
function report(result: RewindResult & { container?: string }, to: number, json: boolean, io: CliIo): number {
  if (json) {
    io.stdout(
      jsonText(RewindJsonSchema, {
        dataDir: result.dataDir,
        aofDir: result.aofDir,
        to: isoSeconds(result.to),
        earliest: time(result.earliest),
        latest: time(result.latest),
        changed: result.changed,
        ...(result.container ? { container: result.container } : {}),
        removedBytes: result.removedBytes,
        movedAside: result.movedAside ?? null,
      }),
    );
    return 0;
  }
  const where = result.container ? ` of container ${result.container}` : '';
  if (!result.changed) {
    io.stdout(
      `Nothing to rewind: the last write in ${result.aofDir}${where} is ${result.latest === undefined ? 'the last rewrite' : `from ${isoSeconds(result.latest)}`}, not after ${isoSeconds(to)}. Nothing was changed.\n`,
    );
    return 0;
  }
  io.stdout(
    `Rewound ${result.aofDir}${where} to ${isoSeconds(to)}: cut ${result.removedBytes} bytes of writes made after it (the last was from ${time(result.latest)}).\n`,
  );
  io.stdout(
    `The AOF as it was is in ${result.movedAside}${result.container ? " inside the container's volume" : ''}: that folder is your undo.\n`,
  );
  io.stdout(
    result.container
      ? `Container ${result.container} is running again with the rewound data loaded.\n`
      : 'Start the server normally now.\n',
  );
  return 0;
}
