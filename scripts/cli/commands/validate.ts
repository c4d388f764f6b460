import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_TIMEOUT_MS, withConnection } from '../../procedures/connect.ts';
import { connectContainer } from '../../procedures/container-redis.ts';
import { PlaybookError } from '../../procedures/errors.ts';
import { readExpectFile } from '../../procedures/expect-file.ts';
import { aclHelp } from '../../procedures/server-refusal.ts';
import { perDatabaseServer, validate, type Finding } from '../../procedures/validate.ts';
import { defineCommand, jsonText } from '../command.ts';
import { assertNoConnectionOptionsWithContainer, ConnectionOptionsShape, targetFromOptions, urlOption } from '../connection-options.ts';
import { containerFromOptions, containerOptions } from '../container-options.ts';
import { ValidateJsonSchema } from '../json-schemas.ts';

/** The options of `redis-playbook validate`. */
export const ValidateOptionsSchema = z.object({
  expect: z.string({ error: 'the expect file is required (--expect FILE)' }).min(1).meta({ value: 'FILE', help: 'The expectations' }),
  url: urlOption(),
  ...ConnectionOptionsShape,
  ...containerOptions('Check Redis in this container (docker exec NAME redis-cli, one command each)'),
  json: z.boolean().default(false).meta({ help: 'Print one JSON object: { "ok": …, "findings": [ … ] }' }),
});

export const validateCommand = defineCommand({
  name: 'validate',
  summary: 'After a recovery, check that the keys and key counts you expect are there',
  usage: `Usage: redis-playbook validate --expect FILE [--url redis://host:port] [--container NAME | --compose-service SERVICE]
                               [--json]`,
  description: `Checks a server against FILE (YAML or JSON):

  databases:
    "0": { minKeys: 1000 }         # at least this many keys in db0
  keys:
    - key: domains:ready
      type: zset                   # what TYPE must answer
      minSize: 100                 # ZCARD (STRLEN, LLEN, SCARD, HLEN, XLEN for the others)
    - key: seen:bloom
      type: MBbloom--              # a RedisBloom filter
      module: bf                   # if the module is not loaded, that is the reason given

Exits 0 when everything holds; otherwise prints a table of what does not and exits 10.
A malformed FILE is a usage error (exit 2) naming the file and line.`,
  options: ValidateOptionsSchema,
  json: ValidateJsonSchema,
  notes: `${aclHelp('validate')}.`,
  async run(options, io) {
    const expect = await readExpectFile(resolve(options.expect));
    const target = targetFromOptions(options, io.env);
    const container = await containerFromOptions(options, io);
    assertNoConnectionOptionsWithContainer(target, container);
    let findings: Finding[];
    let where = target.url;
    if (container) {
      const { commands } = await connectContainer(container, target, { timeoutMs: DEFAULT_TIMEOUT_MS });
      where = commands.where;
      findings = await validate(perDatabaseServer(commands), expect);
    } else {
      findings = await withConnection(target, { timeoutMs: DEFAULT_TIMEOUT_MS }, (client) => validate(client, expect));
    }
    const failed = findings.filter((finding) => !finding.ok);
    if (options.json) {
      io.stdout(jsonText(ValidateJsonSchema, { ok: failed.length === 0, findings }));
    } else if (failed.length === 0) {
      io.stdout(`All ${findings.length} expectations hold on ${where}\n`);
    } else {
      const rows = [['WHAT', 'EXPECTED', 'FOUND'], ...failed.map((finding) => [finding.subject, finding.expected, finding.actual])];
      const widths = [0, 1].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
      for (const row of rows) io.stdout(`${(row[0] ?? '').padEnd(widths[0] ?? 0)}  ${(row[1] ?? '').padEnd(widths[1] ?? 0)}  ${row[2]}\n`);
    }
    if (failed.length > 0)
      throw new PlaybookError('mismatch', `${failed.length} of ${findings.length} expectations do not hold on ${where}`);
    return 0;
  },
});
