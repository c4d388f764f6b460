/**
 * One boot of the power-loss VM: qemu with the cached image's kernel and read-only root, a data disk
 * of the run (vdb, mounted on /data in the guest, Redis's dir), and a network that reaches the guest's
 * port 6379 from 127.0.0.1:<free port> only (qemu user networking with `restrict=on`: the guest
 * reaches nothing, and nothing but that forward reaches it). `kill()` is the power cut: SIGKILL to
 * qemu, so the guest's RAM, its page cache included, is gone, and only what qemu had written to the
 * data disk's file is left.
 *
 * The data disk is opened with `cache=none` (O_DIRECT): each write the guest kernel sends to the disk
 * goes straight to the image file, and a guest flush is an fdatasync of it. The virtual disk has no
 * volatile cache of its own, so the model is "every write the guest kernel issued survives, nothing it
 * still held does". qemu runs with its cwd in the run's `redis-playbook-*` temp dir and is killed at
 * exit, and the leftover check (scripts/harness/leftovers.ts) names a qemu that outlived its run.
 * Software emulation (TCG) unless `PLAYBOOK_VM_ACCEL=kvm`: a boot to Redis's PONG takes about 20 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { DisposedAtExit } from '../exit-hook.ts';
import { freePort } from '../free-port.ts';
import { fatal, waitFor } from '../wait.ts';
import type { vmImagePaths } from './image.ts';

/** The line the guest prints before it starts Redis (guest-init.sh); the ones before it are facts about the guest. */
const GUEST_PREFIX = 'playbook-vm: ';

/** What the guest said about itself on the console (guest-init.sh). */
export interface GuestFacts {
  /** `uname -r`. */
  kernel: string;
  /** The /data line of /proc/mounts (`/dev/vdb /data ext4 rw,relatime 0 0`). */
  dataMount: string;
  /** vm.dirty_* sysctls: how long and how much the kernel lets written data wait in its cache. */
  sysctl: Record<string, number>;
}

export interface VmOptions {
  /** The image's files (image.ts). */
  image: Pick<ReturnType<typeof vmImagePaths>, 'rootfs' | 'kernel' | 'initrd'>;
  /** The run's data disk (data-disk.ts): a raw ext4 image holding redis.conf. */
  dataDisk: string;
  /** A temp dir of the run: qemu's cwd, and where its console log goes. */
  dir: string;
  /** Name of the console log in `dir` (one per boot). */
  name: string;
  /** Guest memory in MB. */
  memoryMb?: number;
}

/** Killed at exit: a qemu must never outlive the process that started it. */
const live = new DisposedAtExit<ChildProcess>((child) => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** The guest's PID 1 (guest-init.sh, installed by image.ts), named on the kernel command line. */
export const VM_INIT = '/sbin/playbook-init';

/** Environment variable asking for KVM: `PLAYBOOK_VM_ACCEL=kvm`. */
export const ACCEL_ENV = 'PLAYBOOK_VM_ACCEL';

/**
 * Software emulation (TCG) unless KVM is asked for: a /dev/kvm can be there and still not run a
 * guest (nested virtualisation without the CPU flags: qemu then hangs or aborts instead of falling
 * back). What is measured here does not depend on the speed of the CPU.
 */
function accelerator(env: NodeJS.ProcessEnv = process.env): string[] {
  return env[ACCEL_ENV] === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg'];
}

/** The qemu command line of a boot (exported for the unit test of the disk and network options). */
export function qemuArgs(options: VmOptions, port: number): string[] {
  const { image, dataDisk, dir, name, memoryMb = 512 } = options;
  return [
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    // A reboot or a kernel panic (panic=-1) ends qemu instead of booting again.
    '-no-reboot',
    ...accelerator(),
    '-m',
    String(memoryMb),
    '-smp',
    '1',
    '-kernel',
    image.kernel,
    '-initrd',
    image.initrd,
    '-append',
    `root=/dev/vda ro rootfstype=ext4 console=ttyS0 quiet net.ifnames=0 panic=-1 init=${VM_INIT}`,
    '-drive',
    `file=${image.rootfs},format=raw,if=virtio,readonly=on`,
    '-drive',
    `file=${dataDisk},format=raw,if=virtio,cache=none`,
    '-netdev',
    `user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:6379`,
    // No option ROM: the kernel is given directly, nothing boots from the network.
    '-device',
    'virtio-net-pci,netdev=net0,romfile=',
    '-serial',
    `file:${join(dir, `${name}.console.log`)}`,
  ];
}

/** A running VM. Dispose it (`await using`) to make sure qemu is gone. */
export class Vm {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #console: string;
  readonly #exited: Promise<unknown>;
  #stderr = '';

  constructor(child: ChildProcess, port: number, consoleLog: string) {
    this.#child = child;
    this.port = port;
    this.#console = consoleLog;
    this.#exited = once(child, 'exit');
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
  }

  /** qemu's process id. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Whether qemu still runs. */
  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** `kvm` or `tcg` (software emulation). */
  get accelerator(): 'kvm' | 'tcg' {
    return accelerator().includes('kvm') ? 'kvm' : 'tcg';
  }

  /** The serial console so far (the guest's kernel and Redis's log). */
  async console(): Promise<string> {
    return readFile(this.#console, 'utf8').catch(() => '');
  }

  /** What qemu and the guest printed, for an error message. */
  async tail(lines = 25): Promise<string> {
    return [
      `qemu stderr: ${this.#stderr.trim() || '(nothing)'}`,
      '--- console (last lines) ---',
      ...(await this.console()).trimEnd().split('\n').slice(-lines),
    ].join('\n');
  }

  /**
   * Waits until Redis in the guest answers PING through the forwarded port. qemu accepts on the port
   * before the guest listens (and then closes), so only a PONG counts. Fails at once when qemu ends.
   */
  async waitForRedis(timeoutMs = 180_000): Promise<void> {
    await waitFor(
      async () => {
        if (!this.running)
          throw fatal(`qemu ended before Redis answered (exit ${this.#child.exitCode ?? this.#child.signalCode})\n${await this.tail()}`);
        const client = new Redis({
          host: '127.0.0.1',
          port: this.port,
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
          connectTimeout: 2_000,
          enableOfflineQueue: false,
        });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.ping();
          return true;
        } finally {
          client.disconnect();
        }
      },
      { what: `Redis in the VM to answer PING on 127.0.0.1:${this.port}`, timeoutMs, intervalMs: 200, maxIntervalMs: 1_000 },
    ).catch(async (error: unknown) => {
      if (error instanceof Error && !error.message.includes('--- console')) error.message += `\n${await this.tail()}`;
      throw error;
    });
  }

  /** The facts guest-init.sh printed before it started Redis. */
  async facts(): Promise<GuestFacts> {
    const lines = (await this.console()).split('\n').flatMap((line) => {
      const at = line.indexOf(GUEST_PREFIX);
      return at === -1 ? [] : [line.slice(at + GUEST_PREFIX.length).trim()];
    });
    const value = (key: string) => lines.find((line) => line.startsWith(`${key} `))?.slice(key.length + 1);
    const kernel = value('kernel');
    const dataMount = value('data');
    if (!kernel || !dataMount) throw new Error(`The guest did not print its kernel and /data mount:\n${await this.tail()}`);
    const sysctl: Record<string, number> = {};
    for (const line of lines) {
      const match = /^(vm\.\S+) (\d+)$/.exec(line);
      if (match) sysctl[match[1] as string] = Number(match[2]);
    }
    return { kernel, dataMount, sysctl };
  }

  /** The power cut: SIGKILL to qemu, resolved once it is gone. */
  async kill(): Promise<void> {
    if (this.running) this.#child.kill('SIGKILL');
    await this.#exited;
    live.delete(this.#child);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }
}

/** Boots the VM (it is not ready yet: {@link Vm.waitForRedis}). */
export async function startVm(options: VmOptions): Promise<Vm> {
  const port = await freePort();
  const child = spawn('qemu-system-x86_64', qemuArgs(options, port), { cwd: options.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  const spawned = await Promise.race([once(child, 'spawn').then(() => undefined), once(child, 'error').then(([error]) => error as Error)]);
  if (spawned) {
    live.delete(child);
    throw new Error(`Cannot start qemu-system-x86_64: ${spawned.message}`, { cause: spawned });
  }
  return new Vm(child, port, join(options.dir, `${options.name}.console.log`));
}

/** `qemu-system-x86_64 --version`'s first line ("QEMU emulator version 7.2.22 (Debian …)"). */
export async function qemuVersion(): Promise<string> {
  const { stdout } = await execa('qemu-system-x86_64', ['--version'], { reject: false });
  return stdout.split('\n')[0]?.trim() || 'qemu (version unknown)';
}
