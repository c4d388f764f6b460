#!/usr/bin/env node
/**
 * `npm run test:package [-- --node 20,22,24] [--no-sea]`: the CLI as an operator gets it, tested on real
 * servers. Builds the npm tarball and the single executable (`npm run build:cli`), then
 *
 * - for each Node line: installs the tarball with `npm install -g --prefix P` into a fresh prefix
 *   (npm must print nothing on stderr: no EBADENGINE or other warning), checks `--version` (the version
 *   and this commit, nothing on stderr) and runs the CLI's integration tests (see {@link testsOf})
 *   against `P/bin/redis-playbook` (REDIS_PLAYBOOK_CLI, see test/support/run-cli.ts), from the temp
 *   dir, with only `P/bin`, that Node's dir, `/usr/bin` and `/bin` on its PATH;
 * - runs the single executable's tests (inspect, backup, backups, check, test-restore, restore) with
 *   a PATH that has every program of `/usr/bin` and `/bin` except Node and npm.
 *
 * Node 20 is the machine's (`/usr/bin/node`), 24 the devDependency this runs on, 22 the one `scripts/setup.sh`
 * fetches from the npm registry into `.cache/node-22/`. With CI=true a missing Node line is a failure,
 * elsewhere a skip with the reason. Every prefix and dir it makes is removed at the end.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TEMP_PREFIX } from '../harness/leftovers.ts';
import { buildIdentity, buildPackage, buildSea, seaPath } from './build.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The CLI's integration tests run against each installed package: every command a host runs without Docker. */
export const PACKAGE_TESTS = ['cli-backup', 'inspect-errors', 'inspect-password', 'inspect-rdb-only', 'validate', 'watch'];
/** The single executable's smoke test: inspect, backup, backups, check, test-restore and restore. */
export const SEA_TESTS = ['cli-backup', 'inspect-rdb-only'];

/**
 * The test files of a Node line: the CLI's whole host suite on the machine's Node 20 and on the
 * devDependency's 24 (the lines the issue names), the single executable's smoke set on 22.
 */
export function testsOf(line: string): string[] {
  return line === '22' ? SEA_TESTS : PACKAGE_TESTS;
}

/** Programs that must not be on the PATH of the single executable's tests. */
const NODE_PROGRAMS = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack']);

/** Where each Node line is found (its `node` binary). */
export function nodeLines(): Record<string, string> {
  return {
    '20': '/usr/bin/node',
    '22': join(root, '.cache', 'node-22', 'node_modules', 'node', 'bin', 'node'),
    '24': process.execPath,
  };
}

const log = (message: string) => process.stderr.write(`test:package: ${message}\n`);

async function timed<T>(what: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  log(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/** Runs the named integration tests against `cli` with `path` as its PATH; resolves to their output when they failed. */
async function runTests(names: string[], cli: string, path: string): Promise<string | undefined> {
  const files = names.map((name) => join('test', 'integration', `${name}.test.ts`));
  const run = await execa(process.execPath, ['--test', '--test-concurrency=2', ...files], {
    cwd: root,
    env: { REDIS_PLAYBOOK_CLI: cli, REDIS_PLAYBOOK_CLI_PATH: path },
    all: true,
    reject: false,
  });
  return run.exitCode === 0 ? undefined : run.all;
}

/** A dir of links to every program in /usr/bin and /bin except Node's and npm's: a host without Node. */
export async function pathWithoutNode(dir: string): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin);
  for (const source of ['/usr/bin', '/bin']) {
    for (const name of await readdir(source)) {
      if (NODE_PROGRAMS.has(name) || existsSync(join(bin, name))) continue;
      await symlink(join(source, name), join(bin, name));
    }
  }
  const probe = await execa('/bin/sh', ['-c', 'command -v node || command -v nodejs'], {
    env: { PATH: bin },
    extendEnv: false,
    reject: false,
  });
  if (probe.exitCode === 0) throw new Error(`node is still on the PATH without Node: ${probe.stdout}`);
  return bin;
}

/** Checks `--version` of an installed CLI: the package version and the commit, nothing on stderr. */
async function assertVersion(cli: string, path: string, expected: string): Promise<void> {
  const run = await execa(cli, ['--version'], {
    env: { PATH: path, HOME: process.env.HOME ?? '/root' },
    extendEnv: false,
    cwd: tmpdir(),
    reject: false,
  });
  if (run.exitCode !== 0 || run.stdout !== expected || run.stderr !== '') {
    throw new Error(
      `${cli} --version: exit ${run.exitCode}, stdout ${JSON.stringify(run.stdout)} (expected ${JSON.stringify(expected)}), stderr ${JSON.stringify(run.stderr)}`,
    );
  }
}

if (import.meta.main) {
  let lines = ['20', '22', '24'];
  let sea = true;
  try {
    const { values } = parseArgs({ options: { node: { type: 'string' }, 'no-sea': { type: 'boolean', default: false } } });
    if (values.node) lines = values.node.split(',').map((line) => line.trim());
    for (const line of lines)
      if (!(line in nodeLines())) throw new Error(`no Node line "${line}" (lines: ${Object.keys(nodeLines()).join(', ')})`);
    sea = !values['no-sea'];
  } catch (error) {
    process.stderr.write(`test:package: ${(error as Error).message}\nUsage: npm run test:package [-- --node 20,22,24] [--no-sea]\n`);
    process.exit(2);
  }
  const { info, description } = await buildIdentity();
  const expectedVersion = `${info.version} (commit ${info.commit})`;
  const failures: string[] = [];
  const work = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}package-`));
  try {
    const tarball = await timed('build the npm package', () => buildPackage(info, description));
    // One suite after the other: run at the same time they took as long in all (3.0 against 3.2 min)
    // and the time-bound ones (watch --for 5 during a BGSAVE) failed on a busy machine.
    const suites: (() => Promise<void>)[] = lines.map((line) => async () => {
      const node = nodeLines()[line] as string;
      if (!existsSync(node)) {
        const reason = `Node ${line} is not here (${node}; scripts/setup.sh fetches it)`;
        if (process.env.CI === 'true') failures.push(reason);
        else log(`skipped: ${reason}`);
        return;
      }
      const actual = (await execa(node, ['--version'])).stdout.trim();
      if (!actual.startsWith(`v${line}.`)) {
        failures.push(`${node} is ${actual}, not Node ${line}`);
        return;
      }
      const prefix = join(work, `node-${line}`);
      const path = [join(prefix, 'bin'), dirname(node), '/usr/bin', '/bin'].join(':');
      // The machine's npm, run by this line's Node (first on PATH), as an operator would install it; only
      // its notice of a newer npm (a registry look-up, nothing about this package) is turned off.
      const env = { PATH: path, HOME: join(work, `home-${line}`), npm_config_update_notifier: 'false' };
      const install = await timed(`Node ${actual}: npm install -g --prefix`, () =>
        execa('npm', ['install', '-g', '--prefix', prefix, tarball], { env, extendEnv: false, cwd: work, reject: false }),
      );
      if (install.exitCode !== 0 || install.stderr !== '') {
        failures.push(`Node ${line}: npm install -g exited ${install.exitCode} and printed on stderr:\n${install.stderr}`);
        return;
      }
      const cli = join(prefix, 'bin', 'redis-playbook');
      await assertVersion(cli, path, expectedVersion);
      const failed = await timed(`Node ${actual}: ${testsOf(line).length} CLI test files against ${cli}`, () =>
        runTests(testsOf(line), cli, path),
      );
      if (failed) failures.push(`Node ${line}: the CLI tests failed:\n${failed}`);
    });
    if (sea) {
      suites.push(async () => {
        const executable = await timed('build the single executable', () => buildSea());
        const path = await pathWithoutNode(work);
        await assertVersion(executable, path, expectedVersion);
        const failed = await timed(`single executable ${seaPath}, no Node on PATH: ${SEA_TESTS.length} test files`, () =>
          runTests(SEA_TESTS, executable, path),
        );
        if (failed) failures.push(`the single executable's tests failed:\n${failed}`);
      });
    }
    for (const suite of suites) {
      try {
        await suite();
      } catch (error) {
        failures.push(String(error));
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  for (const failure of failures) log(`FAILED: ${failure}`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}
