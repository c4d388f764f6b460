/**
 * Debian's packaged Redis under a real systemd, in a container: the "Debian/Ubuntu package" setup that
 * pages about `systemctl` and `Restart=always` describe. The image is Debian bookworm
 * (`debootstrap --variant=minbase`) with systemd as PID 1 and Debian's `redis-server` package (with
 * bookworm's security updates: the host engine's own package), built once and kept by Docker under a
 * tag that names its recipe. The container runs with no network; commands reach it by `docker exec`.
 *
 * One drop-in is needed in a container, and only there: Debian's `redis-server.service` sandboxes
 * Redis (PrivateTmp, ProtectSystem, a system call filter…), which a container cannot set up
 * (`status=217/USER`); `container.conf` turns that sandboxing off. The unit itself (Type=notify,
 * `--supervised systemd`, Restart=always) is Debian's, unchanged.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { docker, dockerTry } from '../docker/exec.ts';
import { HARNESS_LABEL } from '../docker/container.ts';
import { TEMP_PREFIX } from '../leftovers.ts';
import { waitFor } from '../wait.ts';

const MIRROR = process.env.PLAYBOOK_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
const SECURITY_MIRROR = process.env.PLAYBOOK_DEBIAN_SECURITY_MIRROR || 'http://deb.debian.org/debian-security';
const SUITE = 'bookworm';
const PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'redis-server', 'redis-tools', 'sudo', 'procps'] as const;

/** The drop-in a container needs for Debian's unit (said on the pages that use this setup). */
export const CONTAINER_DROP_IN = `[Service]
# Only in a container: the sandboxing of Debian's unit needs kernel features a container lacks.
PrivateTmp=no
PrivateDevices=no
PrivateUsers=no
ProtectSystem=no
ProtectHome=no
ProtectHostname=no
ProtectClock=no
ProtectKernelTunables=no
ProtectKernelModules=no
ProtectKernelLogs=no
ProtectControlGroups=no
ProtectProc=default
RestrictNamespaces=no
RestrictRealtime=no
RestrictSUIDSGID=no
RestrictAddressFamilies=
NoNewPrivileges=no
LockPersonality=no
MemoryDenyWriteExecute=no
CapabilityBoundingSet=
SystemCallFilter=
SystemCallArchitectures=
ReadWritePaths=
ReadOnlyPaths=
`;

/** The image tag: its recipe (suite, packages, drop-in) hashed into it, so a changed recipe builds anew. */
export const SYSTEMD_IMAGE = `redis-playbook/debian-systemd-redis:${SUITE}-${createHash('sha256')
  .update(JSON.stringify([SUITE, PACKAGES, CONTAINER_DROP_IN]))
  .digest('hex')
  .slice(0, 12)}`;

/** Why the image cannot be built or run here (no Docker, no debootstrap, not root); undefined when it can. */
export async function systemdUnavailableReason(): Promise<string | undefined> {
  if ((await dockerTry(['info', '--format', '{{.ServerVersion}}'])).exitCode !== 0) return 'Docker is not available here';
  if ((await dockerTry(['image', 'inspect', SYSTEMD_IMAGE])).exitCode === 0) return undefined;
  if (process.getuid?.() !== 0) return 'building the systemd image needs root (debootstrap)';
  if ((await execa('debootstrap', ['--version'], { reject: false })).exitCode !== 0)
    return 'debootstrap is not installed (scripts/setup.sh installs it)';
  return undefined;
}

let building: Promise<void> | undefined;

/** Builds {@link SYSTEMD_IMAGE} unless Docker has it (once per process; a minute or two, once). */
export function ensureSystemdImage(): Promise<void> {
  building ??= (async () => {
    if ((await dockerTry(['image', 'inspect', SYSTEMD_IMAGE])).exitCode === 0) return;
    const root = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}systemd-root-`));
    try {
      await execa('debootstrap', ['--variant=minbase', `--include=${PACKAGES.join(',')}`, SUITE, root, MIRROR]);
      await writeFile(
        join(root, 'etc/apt/sources.list'),
        [`deb ${MIRROR} ${SUITE} main`, `deb ${MIRROR} ${SUITE}-updates main`, `deb ${SECURITY_MIRROR} ${SUITE}-security main`, ''].join(
          '\n',
        ),
      );
      await execa('chroot', [root, 'apt-get', 'update', '-qq']);
      await execa('chroot', [root, 'apt-get', 'install', '-y', '-qq', '--only-upgrade', 'redis-server', 'redis-tools'], {
        env: { DEBIAN_FRONTEND: 'noninteractive' },
      });
      await execa('chroot', [root, 'apt-get', 'clean']);
      const dropIns = join(root, 'etc/systemd/system/redis-server.service.d');
      await mkdir(dropIns, { recursive: true });
      await writeFile(join(dropIns, 'container.conf'), CONTAINER_DROP_IN);
      await rm(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
      await execa('bash', [
        '-c',
        'set -o pipefail; tar -C "$1" -c . | docker import --change \'CMD ["/lib/systemd/systemd"]\' - "$2"',
        'bash',
        root,
        SYSTEMD_IMAGE,
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  })().catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  return building;
}

/** A running systemd container of {@link SYSTEMD_IMAGE} with Debian's redis-server unit active. */
export class SystemdRedis {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  /** `docker exec NAME ARGS`, its result (never throws on a non-zero exit). */
  exec(args: string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}) {
    const envArgs = Object.entries(options.env ?? {}).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
    return execa('docker', ['exec', '-i', ...envArgs, this.name, ...args], {
      reject: false,
      all: true,
      input: options.input ?? '',
      timeout: options.timeoutMs ?? 60_000,
    });
  }

  /** `systemctl show redis-server` properties (ActiveState, SubState, NRestarts, MainPID…). */
  async unit(): Promise<Record<string, string>> {
    const { stdout } = await this.exec(['systemctl', 'show', 'redis-server', '-p', 'ActiveState,SubState,NRestarts,MainPID,Restart']);
    return Object.fromEntries(
      stdout
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  }

  /** Whether Redis answers PING (through redis-cli in the container). */
  async answers(): Promise<boolean> {
    return (await this.exec(['redis-cli', 'PING'], { timeoutMs: 10_000 })).stdout.trim() === 'PONG';
  }

  /** `INFO server` fields of the Redis in the container; undefined when it does not answer. */
  async infoServer(): Promise<Record<string, string> | undefined> {
    const { exitCode, stdout } = await this.exec(['redis-cli', 'INFO', 'server'], { timeoutMs: 10_000 });
    if (exitCode !== 0 || !stdout.includes('redis_version')) return undefined;
    return Object.fromEntries(
      stdout
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.includes(':') && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await dockerTry(['rm', '-f', '-v', this.name]);
  }
}

/**
 * Starts a container of {@link SYSTEMD_IMAGE} (building it when missing) with systemd as PID 1, and
 * waits until Debian's redis-server unit is active and Redis answers. No network; a container name
 * with the harness's prefix and label, so the leftover check finds it if a run dies.
 */
export async function startSystemdRedis(): Promise<SystemdRedis> {
  await ensureSystemdImage();
  const name = `${TEMP_PREFIX}systemd-${Math.random().toString(16).slice(2, 10)}`;
  await docker([
    'run',
    '-d',
    '--name',
    name,
    '--hostname',
    'localhost',
    '--label',
    `${HARNESS_LABEL}=1`,
    '--network',
    'none',
    '-e',
    'container=docker',
    '--tmpfs',
    '/run',
    '--tmpfs',
    '/run/lock',
    '-v',
    '/sys/fs/cgroup:/sys/fs/cgroup:ro',
    SYSTEMD_IMAGE,
  ]);
  const unit = new SystemdRedis(name);
  try {
    await waitFor(async () => (await unit.unit()).ActiveState === 'active' && (await unit.answers()), {
      what: `Debian's redis-server unit in ${name} to start`,
      timeoutMs: 120_000,
      intervalMs: 200,
    });
  } catch (error) {
    const { all } = await unit.exec(['systemctl', 'status', 'redis-server', '--no-pager']);
    await unit[Symbol.asyncDispose]();
    throw new Error(`${(error as Error).message}\n${all}`, { cause: error });
  }
  return unit;
}

// `npm run systemd-image`: builds the image when Docker lacks it (scripts/setup.sh runs it).
if (import.meta.main) {
  const started = Date.now();
  await ensureSystemdImage();
  process.stdout.write(`systemd-image: ${SYSTEMD_IMAGE} ready (${Math.round((Date.now() - started) / 1000)} s)\n`);
}
