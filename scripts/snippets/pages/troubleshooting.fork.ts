import assert from 'node:assert/strict';
import { engineTraits } from '../../engines/catalog.ts';
import { readFile } from 'node:fs/promises';
import { exec } from '../exec.ts';
import { defineSnippet } from '../schema.ts';
import { engineProgramFile } from '../scenarios/engine-program.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { replaced } from '../variants.ts';
import { dockerLogGrep, logFileValue, page, seedSaveLines, wording6Variant } from '../scenarios/troubleshooting.ts';

/** The warning Redis 6.0 logs at start when vm.overcommit_memory is 0. */
const OVERCOMMIT_WARNING_6 =
  /# WARNING overcommit_memory is set to 0! Background save may fail under low memory condition\. To fix this issue add 'vm\.overcommit_memory = 1' to \/etc\/sysctl\.conf and then reboot or run the command 'sysctl vm\.overcommit_memory=1' for this to take effect\./;
/** The words the page's grep finds the warning by (Redis 7.0+, Valkey; Redis 6.0). */
const OVERCOMMIT_GREP = 'WARNING Memory overcommit must be enabled';
const OVERCOMMIT_GREP_6 = 'WARNING overcommit_memory is set to 0';

/** The overcommit setting and what the log says about it and about a failed fork. */
const overcommitCheck = [
  'sysctl vm.overcommit_memory',
  `grep -m 1 '${OVERCOMMIT_GREP}' {{logFile}}`,
  'grep "Can\'t save in background: fork" {{logFile}} | tail -n 1',
].join('\n');

/** The warning Redis logs at start when vm.overcommit_memory is not 1. */
const OVERCOMMIT_WARNING =
  /# WARNING Memory overcommit must be enabled! Without it, a background save or replication may fail under low memory condition\..* 'vm\.overcommit_memory = 1' to \/etc\/sysctl\.conf .*'sysctl vm\.overcommit_memory=1'/;

/** The troubleshooting page's blocks of one fault: fork: Cannot allocate memory. */
export const forkSnippets = [
  // 7. fork: Cannot allocate memory
  defineSnippet({
    id: 'trouble-overcommit',
    title: 'Check the overcommit setting a background save needs',
    page,
    flavors: {
      host: {
        command: overcommitCheck,
        variants: [
          wording6Variant(
            'the warning reads `WARNING overcommit_memory is set to 0! Background save may fail under low memory condition.`',
            replaced(overcommitCheck, OVERCOMMIT_GREP, OVERCOMMIT_GREP_6),
          ),
        ],
        server: { config: { appendonly: 'no', save: seedSaveLines } },
        values: logFileValue,
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const setting = (await readFile('/proc/sys/vm/overcommit_memory', 'utf8')).trim();
          assert.match(stdout, new RegExp(`^vm\\.overcommit_memory = ${setting}$`, 'm'));
          const wording6 = engineTraits(ctx.engine.id).saveWording6;
          const warning = wording6 ? OVERCOMMIT_WARNING_6 : OVERCOMMIT_WARNING;
          // Redis 6.0 warns only when the setting is 0 (its warning says so); 7.0+ whenever it is not 1.
          if (wording6 ? setting !== '0' : setting === '1') assert.doesNotMatch(stdout, warning);
          else assert.match(stdout, warning, 'Redis warns at start when overcommit is not 1');
          assert.doesNotMatch(stdout, /Can't save in background/, 'no fork failed here (it cannot be reproduced on this machine)');
          // The line the page quotes is the one this engine's server logs when fork fails.
          const binary = engineProgramFile(ctx.engine, 'server');
          assert.equal(
            (await exec('grep', ['-c', '-a', "Can't save in background: fork: %s", binary], { reject: false })).stdout.trim() !== '0',
            true,
          );
        },
      },
      docker: {
        // The setting is the Docker host's: containers share its kernel.
        command: [
          'sysctl vm.overcommit_memory',
          dockerLogGrep("grep -m 1 'WARNING Memory overcommit must be enabled'"),
          dockerLogGrep('grep "Can\'t save in background: fork" | tail -n 1'),
        ].join('\n'),
        server: { config: { ...seedServerConfig, appendonly: 'no' } },
        async verify(ctx) {
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          const setting = (await readFile('/proc/sys/vm/overcommit_memory', 'utf8')).trim();
          assert.match(stdout, new RegExp(`^vm\\.overcommit_memory = ${setting}$`, 'm'));
          if (setting === '1') assert.doesNotMatch(stdout, OVERCOMMIT_WARNING);
          else assert.match(stdout, OVERCOMMIT_WARNING, "Redis in the container warns at start when the host's overcommit is not 1");
          assert.doesNotMatch(stdout, /Can't save in background/, 'no fork failed here (it cannot be reproduced on this machine)');
          // The line the page quotes is the one the image's redis-server logs when fork fails.
          const inImage = await ctx.server.exec([
            'sh',
            '-c',
            'grep -c "$0" "$(command -v redis-server)"',
            "Can't save in background: fork: %s",
          ]);
          assert.notEqual(inImage.stdout.trim(), '0');
          assert.equal(inImage.exitCode, 0, inImage.stderr);
        },
      },
    },
  }),
];
