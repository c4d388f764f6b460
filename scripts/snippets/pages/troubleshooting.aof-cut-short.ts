import assert from 'node:assert/strict';
import { engineTraits } from '../../engines/catalog.ts';
import { exec } from '../exec.ts';
import { defineSnippet } from '../schema.ts';
import { assertStartFails, lastAofFile, cutLastWrite, damagedAof, range, userNumbers } from '../scenarios/damaged-files.ts';
import { assertContainerStartFails, containerUserNumbers, damagedAofInVolume } from '../scenarios/damaged-files-docker.ts';
import { singleFileAofVariant } from '../variants.ts';
import {
  SINGLE_FILE_LINE_WHY,
  UNEXPECTED_EOF,
  aofContainer,
  aofServer,
  dockerLogGrep,
  logFileValue,
  page,
  unexpectedEof,
} from '../scenarios/troubleshooting.ts';

/** The line of an AOF cut short and loaded anyway (Redis 8.6 names the file with its dir; Redis 6.0, one appendonly.aof, names none). */
const loadedAnyway = (engineId: string | undefined) => {
  const traits = engineTraits(engineId);
  if (traits.aofLayout === 'file') return /# AOF loaded anyway because aof-load-truncated is enabled/;
  return new RegExp(
    `# AOF ${traits.aofLogWithDir ? 'appendonlydir/' : ''}appendonly\\.aof\\.1\\.incr\\.aof loaded anyway because aof-load-truncated is enabled`,
  );
};
/** The two warnings of an AOF cut short and loaded anyway: the short read and the cut, naming the incr file (Redis 6.0: no file). */
const truncatedLines = (engineId: string | undefined): RegExp[] =>
  engineTraits(engineId).aofLayout === 'file'
    ? [/# !!! Warning: short read while loading the AOF file !!!/, /# !!! Truncating the AOF at offset \d+ !!!/]
    : [
        /# !!! Warning: short read while loading the AOF file appendonly\.aof\.1\.incr\.aof!!!/,
        /# !!! Truncating the AOF appendonly\.aof\.1\.incr\.aof at offset \d+ !!!/,
      ];

/** The troubleshooting page's blocks of one fault: An AOF whose last write was cut short: loaded anyway, or refused. */
export const aofCutShortSnippets = [
  // 3. An AOF whose last write was cut short
  defineSnippet({
    id: 'trouble-aof-truncated-loaded',
    title: 'See what Redis did with an AOF cut short (aof-load-truncated yes)',
    page,
    flavors: {
      host: {
        command: "grep -E 'short read while loading|Truncating the AOF|loaded anyway' {{logFile}}",
        variants: [
          singleFileAofVariant(
            'its AOF is one file, so the lines name no file: `short read while loading the AOF file !!!`, `Truncating the AOF at offset N`.',
          ),
        ],
        server: aofServer(),
        async setup(server) {
          await damagedAof(server, cutLastWrite);
          await server.start();
        },
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const server = ctx.server;
          for (const line of [...truncatedLines(server.engine.id), loadedAnyway(server.engine.id)]) assert.match(stdout, line);
          assert.ok(server.running, 'the server started');
          assert.deepEqual(await userNumbers(server), range(19), 'every whole write is there, the one cut short is not');
          // The incr file alone (Redis 6.0: its one file): its base is untouched, and Valkey 9.1's checker misreads a VALKEY base (integrity page).
          const check = await exec(server.engine.checkAof, [await lastAofFile(server)], { reject: false });
          assert.equal(check.exitCode, 0, 'Redis cut the partial command off the file itself');
        },
      },
      docker: {
        command: dockerLogGrep("grep -E 'short read while loading|Truncating the AOF|loaded anyway'"),
        server: aofContainer(),
        async setup(server) {
          await damagedAofInVolume(server, cutLastWrite);
          await server.start();
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /# !!! Warning: short read while loading the AOF file appendonly\.aof\.1\.incr\.aof!!!/);
          assert.match(stdout, /# !!! Truncating the AOF appendonly\.aof\.1\.incr\.aof at offset \d+ !!!/);
          const server = ctx.server;
          assert.match(stdout, loadedAnyway(server.engine.id));
          assert.equal(await server.isRunning(), true, 'the container runs');
          assert.deepEqual(await containerUserNumbers(server), range(19), 'every whole write is there, the one cut short is not');
          const check = await server.exec(['redis-check-aof', '/data/appendonlydir/appendonly.aof.1.incr.aof']);
          assert.equal(check.exitCode, 0, 'Redis cut the partial command off the file itself');
        },
      },
    },
  }),
  defineSnippet({
    id: 'trouble-aof-truncated-refused',
    title: 'See why Redis will not start: an AOF cut short (aof-load-truncated no)',
    page,
    flavors: {
      host: {
        command: "grep 'Unexpected end of file reading the append only file' {{logFile}} | tail -n 1",
        variants: [singleFileAofVariant(SINGLE_FILE_LINE_WHY)],
        server: aofServer({ 'aof-load-truncated': 'no' }),
        async setup(server) {
          await damagedAof(server, cutLastWrite);
          await assertStartFails(server, unexpectedEof(server.engine.id));
        },
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, unexpectedEof(ctx.server.engine.id));
        },
      },
      docker: {
        command: dockerLogGrep("grep 'Unexpected end of file reading the append only file' | tail -n 1"),
        server: aofContainer({ 'aof-load-truncated': 'no' }),
        async setup(server) {
          await damagedAofInVolume(server, cutLastWrite);
          await assertContainerStartFails(server, UNEXPECTED_EOF);
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, UNEXPECTED_EOF);
          assert.equal(stdout.trim().split('\n').length, 1);
        },
      },
    },
  }),
];
