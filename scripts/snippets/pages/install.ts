import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { releaseFiles } from '../../package/build.ts';
import { pathWithoutNode } from '../../package/test-installed.ts';
import { defineSnippet, type VerifyContext } from '../schema.ts';

const page = 'reference/install';

/** The package version, in the release files' names. */
const { version } = z
  .object({ version: z.string() })
  .parse(JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')));
const tarball = `redis-playbook-${version}.tgz`;
const executable = 'redis-playbook-linux-x64';

/** Copies the release files (built once per verify run) into scratch/release, as an operator downloads them. */
async function download(scratch: string): Promise<Record<string, string>> {
  const files = await releaseFiles();
  const downloadDir = join(scratch, 'release');
  await mkdir(downloadDir);
  for (const file of [files.tarball, files.executable]) {
    for (const path of [file, `${file}.sha256`]) await copyFile(path, join(downloadDir, basename(path)));
  }
  assert.equal(basename(files.tarball), tarball);
  return { downloadDir, checkout: join(scratch, 'opt', 'redis-playbook') };
}

/** Asserts the installed CLI printed its version line and an inspect summary of the server, and no warning. */
function assertInstalled(ctx: VerifyContext, run: { exitCode: number; stdout: string; stderr: string }): void {
  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal(run.stderr, '', 'nothing on stderr: no npm or Node warning');
  assert.match(run.stdout, new RegExp(`^${version.replaceAll('.', '\\.')} \\(commit [0-9a-f]{40}(-dirty)?\\)$`, 'm'));
  assert.ok(run.stdout.includes(ctx.server.dir), "the inspect summary names the server's data dir");
}

/** An install command, then the installed CLI's version and an inspect of the server, as the page shows them. */
function installThenRun(install: string): string {
  return [
    install,
    '{{checkout}}/bin/redis-playbook --version',
    '{{checkout}}/bin/redis-playbook inspect --url redis://{{host}}:{{port}}',
  ].join('\n');
}

/** The server both installs are tried on. */
const server = { config: { appendonly: 'no', save: '3600 1' } };

export const installSnippets = [
  defineSnippet({
    id: 'install-checksums',
    title: 'Check the downloaded files',
    page,
    flavors: {
      host: {
        command: `cd {{downloadDir}}\nsha256sum -c ${tarball}.sha256 ${executable}.sha256`,
        server: false,
        values: ({ scratch }) => download(scratch),
        timeoutMs: 300_000,
        async verify(ctx) {
          const run = await ctx.run();
          assert.equal(run.exitCode, 0, run.all);
          assert.match(run.stdout, new RegExp(`^${tarball.replaceAll('.', '\\.')}: OK$`, 'm'));
          assert.match(run.stdout, new RegExp(`^${executable}: OK$`, 'm'));
        },
      },
    },
  }),
  defineSnippet({
    id: 'install-npm',
    title: 'Install the npm package (Node 20 or later)',
    page,
    flavors: {
      host: {
        command: installThenRun(`npm install -g --prefix {{checkout}} {{downloadDir}}/${tarball}`),
        server,
        values: ({ scratch }) => download(scratch),
        timeoutMs: 300_000,
        async verify(ctx) {
          // The machine's own Node (20 here) and npm, from a dir outside the checkout; npm's notice of a
          // newer npm (a registry look-up about npm itself) is off so that the recorded output is stable.
          // npm's default log level too, whatever the npm that runs verify was given (npm run --silent).
          const run = await ctx.run({
            env: {
              PATH: await ctx.enginePath('/usr/bin:/bin'),
              HOME: ctx.scratch,
              npm_config_update_notifier: 'false',
              npm_config_loglevel: 'notice',
            },
          });
          assertInstalled(ctx, run);
          assert.match(run.stdout, /^added 1 package/m, 'one package: it has no dependencies');
        },
      },
    },
  }),
  defineSnippet({
    id: 'install-executable',
    title: 'Install the single executable (no Node needed)',
    page,
    flavors: {
      host: {
        command: installThenRun(`install -D -m 755 {{downloadDir}}/${executable} {{checkout}}/bin/redis-playbook`),
        server,
        values: ({ scratch }) => download(scratch),
        timeoutMs: 300_000,
        async verify(ctx) {
          // A host without Node: every program of /usr/bin and /bin except node, npm, npx and corepack
          // (behind the engine's programs, as every page command's PATH).
          const run = await ctx.run({ env: { PATH: await ctx.enginePath(await pathWithoutNode(ctx.scratch)), HOME: ctx.scratch } });
          assertInstalled(ctx, run);
        },
      },
    },
  }),
];
