#!/usr/bin/env node
/**
 * The power-loss VM's disk image: Debian bookworm (`debootstrap --variant=minbase`) with Debian's
 * `redis-server` (upgraded from bookworm-security, so it is the host engine's package) and
 * `linux-image-amd64`, built once into the engine cache (`<cache>/vm/bookworm-redis/`, beside what
 * `npm run engines` fetches). The kernel and its initramfs (MODULES=most: virtio and ext4) are copied
 * out for qemu's `-kernel`/`-initrd`; the root filesystem keeps no kernel modules, docs or apt lists
 * and becomes a small ext4 image (`mkfs.ext4 -d`, no loop mount) that every run opens read-only.
 * PID 1 is guest-init.sh. `image.json` is written last: its presence with the current recipe hash
 * means complete; a changed recipe (packages, init script) builds again.
 *
 * CLI: `npm run vm-image [-- --force]` builds it when missing (scripts/setup.sh runs it) and prints
 * what it holds. Needs root, debootstrap and e2fsprogs; a few minutes once.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { z } from 'zod';
import { engineCacheDir } from '../../engines/catalog.ts';
import { TEMP_PREFIX } from '../leftovers.ts';
import { vmToolsMissing } from './available.ts';

/** The Debian mirror (`PLAYBOOK_DEBIAN_MIRROR` for a local one), as `npm run engines` uses it. */
const MIRROR = process.env.PLAYBOOK_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
const SECURITY_MIRROR = process.env.PLAYBOOK_DEBIAN_SECURITY_MIRROR || 'http://deb.debian.org/debian-security';
const SUITE = 'bookworm';
/** What the guest holds beyond minbase: the engine, the kernel, and `ip` for the network. */
const PACKAGES = ['redis-server', 'redis-tools', 'linux-image-amd64', 'iproute2', 'kmod'] as const;
/** PID 1 of the guest. */
const INIT_SCRIPT = new URL('./guest-init.sh', import.meta.url);
/** Bumped when the layout below changes. */
const LAYOUT_VERSION = 1;

/** `image.json`: what one build made. Written last, so its presence means complete. */
export const VmImageRecordSchema = z.object({
  /** Hash of what decides the content (suite, packages, init script, layout): another one builds again. */
  recipe: z.string().regex(/^[0-9a-f]{64}$/),
  /** Debian suite of the guest. */
  suite: z.string(),
  /** The kernel release (`uname -r` in the guest, e.g. `6.1.0-50-amd64`). */
  kernelRelease: z.string(),
  /** Debian package versions in the image (`redis-server`, `linux-image-amd64`, …). */
  packages: z.record(z.string(), z.string()),
  /** Size of the root filesystem image in bytes. */
  rootBytes: z.number().int().positive(),
  /** How long the build took. */
  buildMs: z.number().int().nonnegative(),
  /** When it was built (ISO 8601, UTC). */
  builtAt: z.iso.datetime(),
});
export type VmImageRecord = z.infer<typeof VmImageRecordSchema>;

/** The files of the image in the cache. */
export function vmImagePaths(cache = engineCacheDir()) {
  const dir = join(cache, 'vm', `${SUITE}-redis`);
  return {
    dir,
    rootfs: join(dir, 'rootfs.img'),
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    record: join(dir, 'image.json'),
  };
}

/** The recipe hash of the current sources. */
export function vmImageRecipe(): string {
  const init = readFileSync(INIT_SCRIPT);
  return createHash('sha256').update(JSON.stringify({ SUITE, PACKAGES, LAYOUT_VERSION })).update(init).digest('hex');
}

/** The complete image of the current recipe, or undefined. */
export async function readVmImage(cache = engineCacheDir()): Promise<(VmImageRecord & ReturnType<typeof vmImagePaths>) | undefined> {
  const paths = vmImagePaths(cache);
  const text = await readFile(paths.record, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const parsed = VmImageRecordSchema.safeParse(JSON.parse(text));
  if (!parsed.success || parsed.data.recipe !== vmImageRecipe()) return undefined;
  if (![paths.rootfs, paths.kernel, paths.initrd].every((path) => existsSync(path))) return undefined;
  return { ...parsed.data, ...paths };
}

/** A step of the build that failed: the command, its exit code and the end of its output. */
export class VmImageBuildError extends Error {
  constructor(step: string, output: string, options?: ErrorOptions) {
    super(`Building the VM image failed at ${step}${output ? `:\n${output.trim().split('\n').slice(-15).join('\n')}` : ''}`, options);
    this.name = 'VmImageBuildError';
  }
}

async function step(what: string, file: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const result = await execa(file, args, { reject: false, all: true, env: { LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive', ...env } });
  if (result.exitCode !== 0)
    throw new VmImageBuildError(`${what} (\`${[file, ...args].join(' ')}\` exited ${result.exitCode})`, result.all);
  return result.stdout;
}

/**
 * Builds the image into the cache (replacing an older one) and returns its record. Every file is made
 * in a `redis-playbook-vm-image-*` temp dir and moved into the cache at the end; the temp dir is
 * removed whatever happens.
 */
export async function buildVmImage(cache = engineCacheDir(), log: (line: string) => void = () => {}): Promise<VmImageRecord> {
  const missing = vmToolsMissing(['debootstrap', 'mkfs.ext4', 'chroot']);
  if (missing.length > 0) throw new VmImageBuildError('the start', `missing ${missing.join(', ')} (scripts/setup.sh installs them)`);
  if (process.getuid?.() !== 0) throw new VmImageBuildError('the start', 'debootstrap needs root');
  const started = performance.now();
  const paths = vmImagePaths(cache);
  const work = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}vm-image-`));
  try {
    const root = join(work, 'root');
    log(`vm-image: debootstrap ${SUITE} with ${PACKAGES.join(', ')}`);
    await step('debootstrap', 'debootstrap', ['--variant=minbase', `--include=${PACKAGES.join(',')}`, SUITE, root, MIRROR]);
    // The host engine is bookworm's redis-server with its security updates: take those too.
    await writeFile(
      join(root, 'etc/apt/sources.list'),
      [`deb ${MIRROR} ${SUITE} main`, `deb ${MIRROR} ${SUITE}-updates main`, `deb ${SECURITY_MIRROR} ${SUITE}-security main`, ''].join(
        '\n',
      ),
    );
    log('vm-image: updates from bookworm-security');
    await step('apt-get update', 'chroot', [root, 'apt-get', 'update', '-qq']);
    await step('apt-get upgrade', 'chroot', [
      root,
      'apt-get',
      'install',
      '-y',
      '-qq',
      '--only-upgrade',
      ...PACKAGES.filter((name) => name.startsWith('redis-')),
    ]);
    const versions = await step('dpkg-query', 'chroot', [root, 'dpkg-query', '-W', '-f', '${Package}\\t${Version}\\n', ...PACKAGES]);
    const packages = Object.fromEntries(
      versions
        .trim()
        .split('\n')
        .map((line) => line.split('\t') as [string, string]),
    );

    const boot = join(root, 'boot');
    const kernelFile = (await readdir(boot)).find((name) => name.startsWith('vmlinuz-'));
    if (!kernelFile) throw new VmImageBuildError('the kernel', `no vmlinuz-* in ${boot}`);
    const kernel = kernelFile.slice('vmlinuz-'.length);
    await mkdir(join(work, 'out'), { recursive: true });
    await copyFile(join(boot, kernelFile), join(work, 'out', 'vmlinuz'));
    await copyFile(join(boot, `initrd.img-${kernel}`), join(work, 'out', 'initrd.img'));

    await copyFile(INIT_SCRIPT, join(root, 'usr/sbin/playbook-init'));
    await execa('chmod', ['755', join(root, 'usr/sbin/playbook-init')]);
    await mkdir(join(root, 'data'), { recursive: true });
    // The initramfs loads the modules the VM's devices need; what the root does not need, it does not keep.
    for (const dir of [
      'boot',
      'usr/lib/modules',
      'usr/share/doc',
      'usr/share/man',
      'usr/share/locale',
      'var/cache/apt',
      'var/lib/apt/lists',
    ]) {
      await rm(join(root, dir), { recursive: true, force: true });
      await mkdir(join(root, dir), { recursive: true });
    }
    await rm(join(root, 'etc/resolv.conf'), { force: true });
    const used = Number((await step('du', 'du', ['-sb', root])).split('\t')[0]);
    // ext4 with room for its metadata and a margin; sparse, so the file takes what is used.
    const megabytes = Math.ceil((used * 1.3) / 2 ** 20) + 64;
    log(`vm-image: mkfs.ext4 -d (${megabytes} MB)`);
    await step('mkfs.ext4', 'mkfs.ext4', ['-q', '-F', '-L', 'playbook-root', '-d', root, join(work, 'out', 'rootfs.img'), `${megabytes}M`]);

    const record = VmImageRecordSchema.parse({
      recipe: vmImageRecipe(),
      suite: SUITE,
      kernelRelease: kernel,
      packages,
      rootBytes: megabytes * 2 ** 20,
      buildMs: Math.round(performance.now() - started),
      builtAt: new Date().toISOString(),
    });
    await rm(paths.dir, { recursive: true, force: true });
    await mkdir(paths.dir, { recursive: true });
    for (const name of ['rootfs.img', 'vmlinuz', 'initrd.img']) await rename(join(work, 'out', name), join(paths.dir, name));
    await writeFile(paths.record, `${JSON.stringify(record, null, 2)}\n`);
    return record;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The image of the current recipe, built first when missing. */
export async function ensureVmImage(
  cache = engineCacheDir(),
  log?: (line: string) => void,
): Promise<VmImageRecord & ReturnType<typeof vmImagePaths>> {
  const found = await readVmImage(cache);
  if (found) return found;
  await buildVmImage(cache, log);
  const built = await readVmImage(cache);
  if (!built) throw new VmImageBuildError('the end', `${vmImagePaths(cache).record} is missing or for another recipe`);
  return built;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { force: { type: 'boolean', default: false } } });
  const log = (line: string) => {
    console.error(line);
  };
  const image = values.force ? (await buildVmImage(undefined, log), await readVmImage()) : await ensureVmImage(undefined, log);
  if (!image) throw new Error('The VM image was not complete after its build');
  console.log(
    `vm-image: ${image.dir}: kernel ${image.kernelRelease}, redis-server ${image.packages['redis-server']}, ${(image.rootBytes / 2 ** 20).toFixed(0)} MB root, built ${image.builtAt} in ${(image.buildMs / 1000).toFixed(0)} s`,
  );
}
