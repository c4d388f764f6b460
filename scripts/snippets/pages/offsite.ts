import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../exec.ts';
import type { RedisContainer } from '../../harness/docker/container.ts';
import { freePort } from '../../harness/free-port.ts';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { offsiteTools, S3_BUCKET, s3KeyId, startStore, type OffsiteStore } from '../../harness/offsite-store.ts';
import { BACKUP_VERIFIED_METRIC } from '../../procedures/metrics-file.ts';
import { diffDatasets, populate, readDataset, writeMixedDataset, type Dataset } from '../../redis/dataset.ts';
import { defineSnippet, type VerifyContext } from '../schema.ts';
import { scratchBackups } from '../scenarios/rollback.ts';

const page = 'recovery/offsite';
const cli = fileURLToPath(new URL('../../../bin/redis-playbook', import.meta.url));

const repoArgs = '--repo-file {{resticRepoFile}} --password-file {{resticPasswordFile}}';
const newest = '"$(ls -d {{backupDir}}/2*/ | tail -n 1)"';

/**
 * Where a verification keeps its S3 store: its objects, its port and secret, the two files the page
 * names, and the store's keys as restic reads them (~/.aws/credentials on a host).
 */
function storePaths(scratch: string) {
  return {
    data: join(scratch, 'store'),
    login: join(scratch, 'store-login.json'),
    repoFile: join(scratch, 'restic-repository'),
    passwordFile: join(scratch, 'restic-password'),
    credentials: join(scratch, 'aws-credentials'),
  };
}

/**
 * The root-only files of the page (the repository URL, the repository password, the store's keys) for
 * an S3-compatible store on a free loopback port; the store itself starts in the verification
 * ({@link withStore}), on that port with that secret.
 */
async function writeStoreFiles(scratch: string): Promise<void> {
  const paths = storePaths(scratch);
  const port = await freePort();
  const password = randomBytes(18).toString('base64url');
  await mkdir(paths.data, { recursive: true });
  await writeFile(paths.login, JSON.stringify({ port, password }), { mode: 0o600 });
  await writeFile(paths.repoFile, `s3:https://127.0.0.1:${port}/${S3_BUCKET}\n`, { mode: 0o600 });
  await writeFile(paths.credentials, `[default]\naws_access_key_id = ${s3KeyId(password)}\naws_secret_access_key = ${password}\n`, {
    mode: 0o600,
  });
  await writeFile(paths.passwordFile, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
}

/**
 * Runs `fn` while the scratch's S3 store serves its objects on its port, with what restic needs to
 * reach it: the keys file, and the store's self-signed certificate (a store with a certificate of a
 * public CA needs none).
 */
async function withStore<T>(scratch: string, fn: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const paths = storePaths(scratch);
  const { port, password } = JSON.parse(await readFile(paths.login, 'utf8')) as { port: number; password: string };
  await using store: OffsiteStore = await startStore('s3', { dir: paths.data, port, password });
  return await fn({ AWS_SHARED_CREDENTIALS_FILE: paths.credentials, RESTIC_CACERT: store.env.RESTIC_CACERT ?? '' });
}

/** PATH with restic (from the engine cache) before `rest`. */
function resticPath(rest: string): string {
  return `${dirname(offsiteTools().restic)}:${rest}`;
}

/** The CLI as an operator runs it, with restic on PATH (and `env`: the store's). */
async function runCli(args: string[], env: Record<string, string> = {}): Promise<string> {
  const result = await exec(cli, args, { env: { ...env, PATH: resticPath(process.env.PATH ?? '') }, stdin: 'ignore' });
  return result.stdout;
}

/** The dataset before the loss, kept in scratch for the comparison after the drill. */
const datasetFile = (scratch: string) => join(scratch, 'dataset.json');
async function saveDataset(scratch: string, dataset: Dataset): Promise<void> {
  await writeFile(datasetFile(scratch), JSON.stringify([...dataset]));
}
async function savedDataset(scratch: string): Promise<Dataset> {
  return new Map(JSON.parse(await readFile(datasetFile(scratch), 'utf8')) as [string, Dataset extends Map<string, infer V> ? V : never][]);
}

/** A dataset, one backup of it through the CLI (`target`: the URL or --container), and the store's files. */
async function backedUp(scratch: string, server: { withClient: DisposableRedis['withClient'] }, target: string[]): Promise<void> {
  await server.withClient((client) => writeMixedDataset(client, 'A', 20));
  await saveDataset(scratch, await server.withClient(readDataset));
  await runCli(['backup', ...target, '--to', scratchBackups(scratch)]);
  await writeStoreFiles(scratch);
}

/** … and that backup pushed to the store (`offsite init`, `offsite push`), as the push block does. */
async function pushedOffsite(scratch: string, server: { withClient: DisposableRedis['withClient'] }, target: string[]): Promise<void> {
  await backedUp(scratch, server, target);
  const paths = storePaths(scratch);
  const repo = ['--repo-file', paths.repoFile, '--password-file', paths.passwordFile];
  const [backup] = await readdir(scratchBackups(scratch));
  await withStore(scratch, async (env) => {
    await runCli(['offsite', 'init', ...repo], env);
    await runCli(['offsite', 'push', join(scratchBackups(scratch), backup ?? ''), ...repo], env);
  });
}

function storeValues({ scratch }: { scratch: string }) {
  const paths = storePaths(scratch);
  return {
    backupDir: scratchBackups(scratch),
    resticRepoFile: paths.repoFile,
    resticPasswordFile: paths.passwordFile,
    metricsFile: join(scratch, 'redis-backup.prom'),
  };
}

/** Runs the block with restic on its PATH while the store serves; its secrets never reach the recorded output. */
async function runWithStore(ctx: VerifyContext<unknown>, timeoutMs = 240_000) {
  const PATH = await ctx.enginePath(`${dirname(cli)}:${resticPath(process.env.PATH ?? '')}`);
  const run = await withStore(ctx.scratch, (env) => ctx.run({ env: { ...env, PATH }, timeoutMs }));
  const { password } = JSON.parse(await readFile(storePaths(ctx.scratch).login, 'utf8')) as { password: string };
  for (const secret of [(await readFile(storePaths(ctx.scratch).passwordFile, 'utf8')).trim(), password]) {
    assert.ok(!run.all.includes(secret), 'no repository password nor store secret in the output');
  }
  return run;
}

/** The drill, after the loss: pull the newest backup back from the store, check it, restore it. */
function drill(lose: string[], check: string, restore: string[], show: string): string {
  return [
    '( set -e',
    ...lose,
    '# 2. Bring the newest backup back from the store: its files are checked against its manifest',
    'mkdir -p {{backupDir}}',
    `redis-playbook offsite pull latest --to {{backupDir}} ${repoArgs}`,
    `backup=${newest}`,
    `# 3. ${check.startsWith('redis-playbook test-restore') ? 'Load it into a scratch server and compare it with its manifest' : "Check it with the container's own checkers"}`,
    check,
    '# 4. Restore it',
    ...restore,
    show,
    ')',
  ].join('\n');
}

export const offsiteSnippets = [
  defineSnippet({
    id: 'offsite-push',
    title: 'Send the newest backup offsite',
    page,
    flavors: {
      host: {
        command: [
          '# Once: create the repository (encrypted with the password in the file)',
          `redis-playbook offsite init ${repoArgs}`,
          '# After each backup: send it, pull it back and check it, write the freshness gauge',
          `redis-playbook offsite push ${newest} ${repoArgs} --metrics-file {{metricsFile}}`,
        ].join('\n'),
        server: { config: { appendonly: 'no', save: '""' } },
        async setup(server, scratch) {
          // 200,000 more keys (a few MB): enough for restic's chunks to show what deduplication saves.
          await server.withClient((client) => populate(client, 200_000, 'page', 20));
          await backedUp(scratch, server, ['--url', server.url]);
        },
        values: storeValues,
        timeoutMs: 300_000,
        async verify(ctx) {
          const { exitCode, stdout } = await runWithStore(ctx);
          assert.equal(exitCode, 0);
          assert.match(stdout, /^Created the restic repository s3:https:\/\/127\.0\.0\.1:\d+\/redis-backups\./m);
          const pushed =
            /^Pushed (\S+) to s3:https:\/\/127\.0\.0\.1:\d+\/redis-backups as snapshot ([0-9a-f]{8}): (\d+) bytes, (\d+) new in the repository; pulled back and checked, (\d+) files? match(?:es)? the manifest\.$/m.exec(
              stdout,
            );
          assert.ok(pushed, stdout);
          ctx.measure('backupBytes', Number(pushed[3]));
          ctx.measure('addedBytes', Number(pushed[4]));
          // A second backup of the same data, pushed: what deduplication leaves to send.
          const server = ctx.server;
          await runCli(['backup', '--url', server.url, '--to', ctx.values.backupDir]);
          const [, second] = (await readdir(ctx.values.backupDir)).sort();
          const repo = ['--repo-file', ctx.values.resticRepoFile, '--password-file', ctx.values.resticPasswordFile];
          const again = await withStore(ctx.scratch, (env) =>
            runCli(['offsite', 'push', join(ctx.values.backupDir, second ?? ''), ...repo, '--json'], env),
          );
          ctx.measure('secondAddedBytes', (JSON.parse(again) as { addedBytes: number }).addedBytes);
          const metric = await readFile(ctx.values.metricsFile, 'utf8');
          assert.match(
            metric,
            new RegExp(`^${BACKUP_VERIFIED_METRIC}\\{dir="s3:https://127\\.0\\.0\\.1:\\d+/redis-backups"\\} \\d{10}$`, 'm'),
          );
          ctx.note(metric.trim());
        },
      },
    },
  }),
  defineSnippet({
    id: 'offsite-schedule-cron',
    title: 'Back up every hour, send offsite, apply retention',
    page,
    flavors: {
      host: {
        lang: 'cron',
        command: `15 * * * * root ( {{checkout}}/bin/redis-playbook backup --url redis://{{host}}:{{port}} --to {{backupDir}} --keep 48 --metrics-file {{metricsFile}} && {{checkout}}/bin/redis-playbook offsite push ${newest} ${repoArgs} && {{checkout}}/bin/redis-playbook offsite forget --keep-hourly 24 --keep-daily 14 --keep-weekly 8 ${repoArgs} ) >> {{backupLog}} 2>&1`,
        server: { config: { appendonly: 'no', save: '""' } },
        setup: (server, scratch) => pushedOffsite(scratch, server, ['--url', server.url]),
        values: ({ scratch }) => ({ ...storeValues({ scratch }), checkout: dirname(dirname(cli)), backupLog: join(scratch, 'backup.log') }),
        timeoutMs: 300_000,
        async verify(ctx) {
          const fields = ctx.command.split(' ');
          assert.deepEqual(fields.slice(0, 6), ['15', '*', '*', '*', '*', 'root']);
          // As cron runs it: /bin/sh, a bare PATH (plus restic, which Debian installs in /usr/bin), no profile.
          const env = { PATH: await ctx.enginePath(resticPath('/usr/bin:/bin')), HOME: '/root', SHELL: '/bin/sh' };
          const result = await withStore(ctx.scratch, (store) =>
            exec('/bin/sh', ['-c', fields.slice(6).join(' ')], { env: { ...env, ...store }, extendEnv: false, reject: false }),
          );
          assert.equal(result.exitCode, 0, result.stderr);
          const log = await readFile(ctx.values.backupLog, 'utf8');
          ctx.note(log.trim());
          assert.match(log, /^Backup complete: /m);
          assert.match(log, /^Pushed .* files? match(?:es)? the manifest\.$/m);
          // The setup's snapshot and this one fall in the same hour: restic keeps the newer one as that
          // hour's, and the older one too while a rule has fewer periods than its count (the oldest).
          assert.match(log, /^Kept 2 snapshots, removed 0\.$/m);
          assert.match(
            await readFile(ctx.values.metricsFile, 'utf8'),
            new RegExp(`^${BACKUP_VERIFIED_METRIC}\\{dir="${ctx.values.backupDir}"\\} \\d{10}$`, 'm'),
          );
        },
      },
    },
  }),
  defineSnippet({
    id: 'offsite-drill',
    title: 'The drill: lose the server and its backups, come back from offsite',
    page,
    flavors: {
      host: {
        command: drill(
          [
            '# 1. Lose everything on this machine: stop Redis, delete its data and the local backups',
            'redis-cli -h {{host}} -p {{port}} SHUTDOWN NOSAVE || true',
            'rm -rf {{dataDir}}/* {{backupDir}}',
          ],
          'redis-playbook test-restore "$backup"',
          ['redis-playbook restore "$backup" --data-dir {{dataDir}}'],
          'ls -l {{dataDir}}',
        ),
        server: { config: { appendonly: 'no', save: '""' } },
        setup: (server, scratch) => pushedOffsite(scratch, server, ['--url', server.url]),
        values: storeValues,
        timeoutMs: 300_000,
        async verify(ctx) {
          const server = ctx.server;
          const { exitCode, stdout } = await runWithStore(ctx);
          assert.equal(exitCode, 0);
          assert.match(stdout, /^Pulled snapshot [0-9a-f]{8} into \S+: \d+ files? match(?:es)? the manifest/m);
          // The server starts on the restored files: exactly the keys it held when it was backed up.
          await server.start();
          const before = await savedDataset(ctx.scratch);
          assert.deepEqual(diffDatasets(before, await server.withClient(readDataset)), []);
          ctx.measure('keys', before.size);
          ctx.note(`after the restart: ${before.size} keys, each equal to the backed-up one`);
        },
      },
      docker: {
        command: drill(
          [
            '# 1. Lose everything on this machine: the container, its volume, the local backups',
            'docker compose down -v',
            'rm -rf {{backupDir}}',
            '# A new, empty Redis of the same compose file',
            'docker compose up -d',
          ],
          'redis-playbook check "$backup" --compose-service {{service}}',
          ['redis-playbook restore "$backup" --compose-service {{service}}'],
          'docker compose exec {{service}} redis-cli INFO keyspace',
        ),
        compose: true,
        server: { config: { appendonly: 'no', save: '""' } },
        setup: (server, scratch) => pushedOffsite(scratch, server, ['--container', (server as RedisContainer).name]),
        values: storeValues,
        timeoutMs: 400_000,
        async verify(ctx) {
          const server = ctx.server;
          const { exitCode, stdout } = await runWithStore(ctx, 360_000);
          assert.equal(exitCode, 0);
          assert.match(stdout, /^Pulled snapshot [0-9a-f]{8} into \S+: \d+ files? match(?:es)? the manifest/m);
          assert.match(stdout, /^db0:keys=\d+/m);
          const before = await savedDataset(ctx.scratch);
          assert.deepEqual(diffDatasets(before, await server.withClient(readDataset)), []);
          ctx.note(`after the restore: ${before.size} keys, each equal to the backed-up one`);
        },
      },
    },
  }),
];
