import { spawnSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { composeCommand } from '../../procedures/docker-cli.ts';
import { shellQuote } from '../../core/shell-quote.ts';
import { dockerTry, findOnPath, lines, runTool, type DockerOutput } from './exec.ts';
import { removeComposeProject } from './project.ts';
import { HARNESS_CONF, HARNESS_LABEL, HARNESS_MOUNT, prepareContainer, RedisContainer, type StartContainerExtras } from './container.ts';
import type { ContainerOptions } from './options.ts';

export { composeCommand };

/** The compose file name the harness writes (both Compose versions read it by default). */
export const COMPOSE_FILE = 'docker-compose.yml';

let described: Promise<string> | undefined;

/**
 * Which Compose ran, for reports and the status page: `docker compose 2.40.3` (v2) or
 * `docker-compose 1.29.2` (v1), from its `version --short`.
 */
export function composeDescription(): Promise<string> {
  described ??= (async () => {
    const command = await composeCommand();
    const [file = 'docker-compose', ...prefix] = command;
    const { stdout } = await runTool(file, [...prefix, 'version', '--short'], { timeoutMs: 30_000 });
    return `${command.join(' ')} ${stdout.trim().replace(/^v/, '') || '(version unknown)'}`;
  })();
  described.catch(() => (described = undefined));
  return described;
}

/**
 * Makes a page's Compose commands run whichever Compose this machine has: writes into `dir` a `docker`
 * script that runs `docker-compose …` for `docker compose …` when only v1 exists (and passes anything
 * else to the real docker), or a `docker-compose` script running `docker compose …` when only v2
 * exists. Returns the dir to put first on PATH, or undefined when nothing is needed.
 */
export async function composeShim(dir: string): Promise<string | undefined> {
  const command = await composeCommand();
  const realDocker = findOnPath('docker');
  if (!realDocker) throw new Error('docker is not on PATH');
  const scripts: Record<string, string> = {};
  if (command[0] === 'docker-compose') {
    scripts.docker = [
      '#!/bin/sh',
      '# Written by the Redis Playbook verifier: this machine has docker-compose (v1) but no `docker compose` (v2).',
      'if [ "$1" = compose ]; then shift; exec docker-compose "$@"; fi',
      `exec ${shellQuote(realDocker)} "$@"`,
    ].join('\n');
  } else if (!findOnPath('docker-compose')) {
    scripts['docker-compose'] = [
      '#!/bin/sh',
      '# Written by the Redis Playbook verifier: this machine has `docker compose` (v2) but no docker-compose (v1).',
      `exec ${shellQuote(realDocker)} compose "$@"`,
    ].join('\n');
  }
  if (Object.keys(scripts).length === 0) return undefined;
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(scripts)) {
    await writeFile(join(dir, name), `${text}\n`);
    await chmod(join(dir, name), 0o755);
  }
  return dir;
}

/** A YAML scalar (JSON strings are valid YAML). */
const y = (value: string) => JSON.stringify(value);

/**
 * An image name as a reader's compose file has it, unquoted (`image: redis:7.0`), so a page's
 * `sed 's#image: redis:7.0$#…#'` finds it; quoted only when it is not a plain YAML scalar.
 */
const imageScalar = (value: string) => (/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(value) ? value : y(value));

/**
 * A disposable Compose project with one service `redis`: a unique project name (so a unique
 * `<project>_redis-data` volume and container name), its compose file in a temp dir. Lifecycle as
 * {@link RedisContainer}; disposal runs `down -v` and then removes whatever is left with the project's
 * label or names, even when `down` fails.
 */
export class ComposeRedis extends RedisContainer {
  /** The compose command detected at start (`docker compose` or `docker-compose`). */
  composeCommand: string[] = ['docker-compose'];

  /** Compose project name (`COMPOSE_PROJECT_NAME`). */
  get project(): string {
    return this.names.project;
  }

  /** Compose service name of Redis. */
  get service(): string {
    return this.names.service;
  }

  /** The project dir holding the compose file (run Compose commands from here). */
  get projectDir(): string {
    return this.root;
  }

  get composeFile(): string {
    return join(this.root, COMPOSE_FILE);
  }

  /** Environment that makes Compose commands in {@link projectDir} act on this project. */
  get composeEnv(): Record<string, string> {
    return { COMPOSE_PROJECT_NAME: this.project };
  }

  /** Runs `<compose> ARGS` in the project dir for this project. Never rejects. */
  compose(args: string[], options: { timeoutMs?: number } = {}): Promise<DockerOutput> {
    const [file = 'docker-compose', ...prefix] = this.composeCommand;
    return runTool(file, [...prefix, ...args], { cwd: this.projectDir, env: this.composeEnv, timeoutMs: options.timeoutMs ?? 180_000 });
  }

  /** The generated compose file: the scenario's `redis-server` command, no network, the harness dir mounted. */
  generatedFile(): string {
    const command = ['redis-server', HARNESS_CONF, ...this.serverArgs];
    return [
      '# Generated by the Redis Playbook harness for one disposable run (scripts/harness/docker/compose.ts).',
      'services:',
      `  ${this.service}:`,
      `    image: ${imageScalar(this.image)}`,
      `    container_name: ${y(this.name)}`,
      '    network_mode: none',
      `    labels:`,
      `      ${y(HARNESS_LABEL)}: "1"`,
      `    command: [${command.map(y).join(', ')}]`,
      '    volumes:',
      `      - ${y('redis-data:/data')}`,
      `      - ${y(`${this.harnessDir}:${HARNESS_MOUNT}`)}`,
      'volumes:',
      '  redis-data:',
      '    labels:',
      `      ${y(HARNESS_LABEL)}: "1"`,
      '',
    ].join('\n');
  }

  /** `up -d`, then finds the service's container and volume, then waits for PING. */
  async up(): Promise<void> {
    this.composeCommand = await composeCommand();
    const result = await this.compose(['up', '-d']);
    if (result.exitCode !== 0)
      throw new Error(
        `\`${this.composeCommand.join(' ')} up -d\` failed (exit ${result.exitCode}):\n${`${result.stdout}\n${result.stderr}`.trim()}`,
      );
    const filters = [`label=com.docker.compose.project=${this.project}`, `label=com.docker.compose.service=${this.service}`];
    const id = lines((await dockerTry(['ps', '--all', '--quiet', ...filters.flatMap((filter) => ['--filter', filter])])).stdout)[0];
    if (!id) throw new Error(`Compose project ${this.project} has no container for service "${this.service}"`);
    const inspected = await dockerTry([
      'container',
      'inspect',
      '--format',
      '{{.Name}}{{range .Mounts}} {{.Destination}}={{.Name}}{{end}}',
      id,
    ]);
    const [name = '', ...mounts] = inspected.stdout.trim().split(' ');
    this.names.container = name.replace(/^\//, '');
    const data = mounts.find((mount) => mount.startsWith('/data='))?.slice('/data='.length);
    if (data) this.names.volume = data;
    await this.waitReady();
  }

  protected override async removeResources(): Promise<string[]> {
    await this.compose(['down', '--volumes', '--remove-orphans', '--timeout', '0']);
    // Its own container and volume by name, then whatever else carries the project's label.
    const own = await super.removeResources();
    const left = await removeComposeProject(this.project);
    return [...own, ...left.map((thing) => `${thing} of project ${this.project}`)];
  }

  protected override removeResourcesSync(): void {
    const [file = 'docker-compose', ...prefix] = this.composeCommand;
    spawnSync(file, [...prefix, 'down', '--volumes', '--remove-orphans', '--timeout', '0'], {
      cwd: this.projectDir,
      env: { ...process.env, ...this.composeEnv },
      stdio: 'ignore',
      timeout: 60_000,
    });
    super.removeResourcesSync();
  }
}

/** Extra knobs of {@link startComposeProject}. */
export interface ComposeExtras extends StartContainerExtras {
  /**
   * A compose file to run as given (a page's example, placeholders filled) instead of the generated
   * one. Its service must be named as `names.service` (default `redis`); the harness mounts nothing
   * into it, so the server is reached with `docker exec` only, and `config`/`password` are not used.
   */
  file?: string;
}

/**
 * Starts a disposable Compose project running Redis with the scenario's config (or the given
 * compose file) and waits until it answers. `await using project = await startComposeProject({ … })`.
 */
export async function startComposeProject(options: ContainerOptions = {}, extras: ComposeExtras = {}): Promise<ComposeRedis> {
  if (extras.file !== undefined && (options.password || Object.keys(options.config ?? {}).length > 0)) {
    throw new Error(
      'startComposeProject: a given compose file brings its own command; config and password apply to the generated one only',
    );
  }
  const project = await prepareContainer(options, extras, (init) => new ComposeRedis(init), extras.file === undefined);
  try {
    await writeFile(project.composeFile, extras.file ?? project.generatedFile());
    await project.up();
    return project;
  } catch (error) {
    const log = await project.logTail(20).catch(() => '');
    await project.dispose().catch(() => undefined);
    if (log && error instanceof Error && !error.message.includes(log)) error.message += `\n--- container log ---\n${log}`;
    throw error;
  }
}
