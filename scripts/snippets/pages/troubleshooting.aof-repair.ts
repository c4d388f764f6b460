import assert from 'node:assert/strict';
import { engineTraits } from '../../engines/catalog.ts';
import type { RedisContainer } from '../../harness/docker/container.ts';
import { defineSnippet, type ServerUnderTest, type VerifyContext } from '../schema.ts';
import {
  assertStartFails,
  breakEleventhWrite,
  cutLastWrite,
  damagedAof,
  emptyDataDir,
  fixCopy,
  range,
  userNumbers,
} from '../scenarios/damaged-files.ts';
import {
  assertContainerStartFails,
  containerUserNumbers,
  damagedAofInVolume,
  emptyVolume,
  fixCopyInVolume,
} from '../scenarios/damaged-files-docker.ts';
import { offline } from './rollback.docker.ts';
import { checkEachAofFile, misreadBaseVariant, replaced, replacedEach, singleFileAofVariant } from '../variants.ts';
import { UNEXPECTED_EOF, aofContainer, aofServer, badFormat, page, unexpectedEof } from '../scenarios/troubleshooting.ts';

/** Swap a repaired copy (appendonlydir.fix, made by the integrity page's repair) in place of the damaged AOF set. */
const swapFixedCopy = [
  '( set -eo pipefail',
  'cd {{dataDir}}',
  '# 1. The repaired copy must check clean',
  'redis-check-aof appendonlydir.fix/appendonly.aof.manifest | tail -n 1',
  '# 2. The damaged set goes aside, not away: it is your undo, and it still holds what --fix cut',
  'aside="aof-damaged-$(date -u +%Y-%m-%dT%H-%M-%SZ)"',
  'mkdir "$aside"',
  'mv appendonlydir "$aside/"',
  'mv appendonlydir.fix appendonlydir',
  '# 3. Let the server user own them (host installs run Redis as "redis")',
  'chown -R redis:redis appendonlydir "$aside"',
  'ls appendonlydir )',
].join('\n');

/** Where the checker misreads the RDB base (Valkey 9.1): the copy's files checked one by one, as the server loads them. */
const SWAP_CHECK_WHY =
  'its checker calls the RDB base file invalid (integrity page), so check the base with redis-check-rdb and each incr file by itself.';
const swapFixedCopyEachFile = replaced(
  swapFixedCopy,
  ['# 1. The repaired copy must check clean', 'redis-check-aof appendonlydir.fix/appendonly.aof.manifest | tail -n 1'].join('\n'),
  [
    '# 1. The repaired copy must check clean, file by file',
    ...checkEachAofFile('appendonlydir.fix', 'appendonly.aof.manifest', (call, filter) => `${call} | ${filter}`),
  ].join('\n'),
);

/** The swap where the AOF is one file (Redis 6.0): the integrity page's repair leaves appendonly.aof.fix. */
const swapFixedFile = replacedEach(swapFixedCopy, [
  ['appendonlydir.fix/appendonly.aof.manifest', 'appendonly.aof.fix'],
  ['appendonlydir.fix', 'appendonly.aof.fix'],
  ['appendonlydir', 'appendonly.aof'],
  ['The damaged set goes aside', 'The damaged file goes aside'],
]);

/**
 * The swap in a throwaway container on the volume. No `pipefail` (the official image's sh is dash):
 * the check's output is kept in a variable, so a failing check still stops the script.
 */
const swapFixedCopyInVolume = [
  'cd /data',
  '# 1. The repaired copy must check clean',
  'check=$(redis-check-aof appendonlydir.fix/appendonly.aof.manifest)',
  'echo "$check" | tail -n 1',
  '# 2. The damaged set goes aside, not away: it is your undo, and it still holds what --fix cut',
  'aside="aof-damaged-$(date -u +%Y-%m-%dT%H-%M-%SZ)"',
  'mkdir "$aside"',
  'mv appendonlydir "$aside/"',
  'mv appendonlydir.fix appendonlydir',
  '# 3. Give them the owner of /data (the official image runs Redis as "redis")',
  'chown -R "$(stat -c %u:%g .)" appendonlydir "$aside"',
  'ls appendonlydir',
];

const swapFixedCopyInVolumeEachFile = replaced(
  swapFixedCopyInVolume.join('\n'),
  [
    '# 1. The repaired copy must check clean',
    'check=$(redis-check-aof appendonlydir.fix/appendonly.aof.manifest)',
    'echo "$check" | tail -n 1',
  ].join('\n'),
  [
    '# 1. The repaired copy must check clean, file by file',
    ...checkEachAofFile('appendonlydir.fix', 'appendonly.aof.manifest', (call, filter) => `check=$(${call}); echo "$check" | ${filter}`),
  ].join('\n'),
).split('\n');

/** The swap's check of the repaired copy passed: the whole set by its manifest, (Valkey 9.1) its base and incr file one by one, or (Redis 6.0) its one file. */
function assertRepairedCopyChecked(stdout: string, engineId: string): void {
  if (engineTraits(engineId).aofLayout === 'file') {
    assert.match(stdout, /^AOF is valid$/m);
    return;
  }
  if (!engineTraits(engineId).checkAofMisreadsBase) {
    assert.match(stdout, /^All AOF files and manifest are valid$/m);
    return;
  }
  assert.match(stdout, /RDB looks OK/);
  assert.match(stdout, /^AOF appendonlydir\.fix\/appendonly\.aof\.\d+\.incr\.aof is (valid|empty)$/m);
}

/** Runs the Docker swap after a fixture (it starts the service) and returns the users the container holds. */
async function swapAndStartDocker(ctx: VerifyContext<RedisContainer>, label: string): Promise<number[]> {
  const server = ctx.server;
  ctx.note(`# ${label}`);
  const { exitCode, stdout } = await ctx.run({ timeoutMs: 90_000 });
  assert.equal(exitCode, 0);
  assertRepairedCopyChecked(stdout, server.engine.id);
  assert.equal(await server.isRunning(), true, 'the container runs again');
  const users = await containerUserNumbers(server);
  assert.match(stdout, new RegExp(`^db0:keys=${users.length},`, 'm'));
  ctx.note(`# the container runs again: ${users.length} keys (user:${users[0]} to user:${users.at(-1)})`);
  return users;
}

/** Runs the swap after a fixture, starts the server and returns the users it holds. */
async function swapAndStart(ctx: VerifyContext, label: string): Promise<number[]> {
  const server = ctx.server;
  ctx.note(`# ${label}`);
  const { exitCode, stdout } = await ctx.run();
  assert.equal(exitCode, 0);
  assertRepairedCopyChecked(stdout, server.engine.id);
  await server.start();
  const users = await userNumbers(server);
  ctx.note(`# then the server starts: ${users.length} keys (user:${users[0]} to user:${users.at(-1)})`);
  return users;
}

/** What the swap check does differently on a host server and in a container (the fixtures behind it). */
interface AofRepairKit<S extends ServerUnderTest> {
  /** Runs the page's swap, has the server running again, and returns the users it holds. */
  swapAndStart(ctx: VerifyContext<S>, label: string): Promise<number[]>;
  /** Empties the data dir of the stopped server. */
  empty(server: S): Promise<void>;
  /** Users 1..20, a clean stop, then `damage` done to the file the writes landed in. */
  damaged(server: S, damage: (file: string) => Promise<void>): Promise<void>;
  /** Starts the server and asserts that it exits, having logged `line`. */
  startFails(server: S, line: RegExp): Promise<void>;
  /** The integrity page's repair on a copy of the AOF. */
  fixCopy(server: S): Promise<void>;
}

/**
 * The check of the swap block, on either flavor: after "Unexpected end of file" every whole write is
 * back and the damaged AOF is kept aside; then the same steps after "Bad file format" keep only the
 * writes before the damage.
 */
function swapFixedCopyCheck<S extends ServerUnderTest>(kit: AofRepairKit<S>) {
  return async (ctx: VerifyContext<S>): Promise<void> => {
    const server = ctx.server;
    const afterCut = await kit.swapAndStart(ctx, 'After "Unexpected end of file" (the last of 20 writes cut short):');
    assert.deepEqual(afterCut, range(19), 'every whole write is back');
    const aside = (await server.dataEntries()).filter((name) => name.startsWith('aof-damaged-'));
    assert.equal(aside.length, 1);
    const damaged = engineTraits(server.engine.id).aofLayout === 'file' ? 'appendonly.aof' : 'appendonlydir';
    assert.deepEqual(await server.dataEntries(aside[0]), [damaged], 'the damaged AOF is kept aside');
    // The same steps after "Bad file format": the 11th of 20 writes broken.
    await server.stop();
    await kit.empty(server);
    await server.start();
    await kit.damaged(server, breakEleventhWrite);
    await kit.startFails(server, badFormat(server.engine.id));
    await kit.fixCopy(server);
    const afterGarbage = await kit.swapAndStart(ctx, 'After "Bad file format" (the 11th of 20 writes broken):');
    assert.deepEqual(afterGarbage, range(10), 'only the writes before the damage are back');
  };
}

/** The troubleshooting page's blocks of one fault: Repair the AOF: the fixed copy swapped in. */
export const aofRepairSnippets = [
  defineSnippet({
    id: 'trouble-aof-swap-fixed-copy',
    title: 'Swap the repaired AOF copy in',
    page,
    flavors: {
      host: {
        command: swapFixedCopy,
        variants: [
          misreadBaseVariant(SWAP_CHECK_WHY, swapFixedCopyEachFile),
          singleFileAofVariant(
            'its AOF is one file: the repair leaves appendonly.aof.fix, which goes in place of appendonly.aof.',
            swapFixedFile,
          ),
        ],
        server: aofServer({ 'aof-load-truncated': 'no' }),
        async setup(server) {
          await damagedAof(server, cutLastWrite);
          await assertStartFails(server, unexpectedEof(server.engine.id));
          await fixCopy(server);
        },
        timeoutMs: 90_000,
        verify: swapFixedCopyCheck({ swapAndStart, empty: emptyDataDir, damaged: damagedAof, startFails: assertStartFails, fixCopy }),
      },
      docker: {
        command: offline(swapFixedCopyInVolume, '-v {{volume}}:/data'),
        variants: [misreadBaseVariant(SWAP_CHECK_WHY, offline(swapFixedCopyInVolumeEachFile, '-v {{volume}}:/data'))],
        compose: true,
        server: aofContainer({ 'aof-load-truncated': 'no' }),
        async setup(server) {
          await damagedAofInVolume(server, cutLastWrite);
          await assertContainerStartFails(server, UNEXPECTED_EOF);
          await fixCopyInVolume(server);
        },
        timeoutMs: 180_000,
        verify: swapFixedCopyCheck({
          swapAndStart: swapAndStartDocker,
          empty: emptyVolume,
          damaged: damagedAofInVolume,
          startFails: assertContainerStartFails,
          fixCopy: fixCopyInVolume,
        }),
      },
    },
  }),
];
