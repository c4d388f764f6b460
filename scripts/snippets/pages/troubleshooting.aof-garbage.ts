import assert from 'node:assert/strict';
import { defineSnippet } from '../schema.ts';
import { assertStartFails, breakEleventhWrite, damagedAof } from '../scenarios/damaged-files.ts';
import { assertContainerStartFails, damagedAofInVolume } from '../scenarios/damaged-files-docker.ts';
import { singleFileAofVariant } from '../variants.ts';
import {
  SINGLE_FILE_LINE_WHY,
  aofContainer,
  aofServer,
  badFormat,
  dockerLogGrep,
  logFileValue,
  page,
} from '../scenarios/troubleshooting.ts';

/** The troubleshooting page's blocks of one fault: Garbage inside the AOF. */
export const aofGarbageSnippets = [
  // 4. Garbage inside the AOF
  defineSnippet({
    id: 'trouble-aof-bad-format',
    title: 'See why Redis will not start: garbage inside the AOF',
    page,
    flavors: {
      host: {
        command: "grep 'Bad file format reading the append only file' {{logFile}} | tail -n 1",
        variants: [singleFileAofVariant(SINGLE_FILE_LINE_WHY)],
        server: aofServer(),
        async setup(server) {
          await damagedAof(server, breakEleventhWrite);
          await assertStartFails(server, badFormat(server.engine.id));
        },
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, badFormat(ctx.server.engine.id));
        },
      },
      docker: {
        command: dockerLogGrep("grep 'Bad file format reading the append only file' | tail -n 1"),
        server: aofContainer(),
        async setup(server) {
          await damagedAofInVolume(server, breakEleventhWrite);
          await assertContainerStartFails(server, badFormat(server.engine.id));
        },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, badFormat(ctx.server.engine.id));
          assert.equal(stdout.trim().split('\n').length, 1);
        },
      },
    },
  }),
];
