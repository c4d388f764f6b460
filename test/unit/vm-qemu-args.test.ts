import assert from 'node:assert/strict';
import { test } from 'node:test';
import { qemuArgs } from '../../scripts/harness/vm/machine.ts';
import { UnavailableHere } from '../../scripts/harness/require-all.ts';
import { VmUnavailableError } from '../../scripts/harness/vm/available.ts';

const options = {
  image: { rootfs: '/cache/rootfs.img', kernel: '/cache/vmlinuz', initrd: '/cache/initrd.img' },
  dataDisk: '/tmp/run/data.img',
  dir: '/tmp/run',
  name: 'boot-1',
};

/** The value after each occurrence of a qemu option. */
function values(args: string[], option: string): string[] {
  return args.flatMap((arg, index) => (arg === option ? [args[index + 1] as string] : []));
}

test('the data disk is raw with cache=none, so a guest flush reaches the image file and nothing waits in a host cache', () => {
  const drives = values(qemuArgs(options, 40001), '-drive');
  assert.deepEqual(drives, [
    'file=/cache/rootfs.img,format=raw,if=virtio,readonly=on',
    'file=/tmp/run/data.img,format=raw,if=virtio,cache=none',
  ]);
});

test('the guest is reachable only through one port forwarded from the host loopback', () => {
  const args = qemuArgs(options, 40001);
  assert.deepEqual(values(args, '-netdev'), ['user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:40001-:6379']);
  assert.ok(args.includes('-nodefaults'), 'no default devices (no default network)');
});

test('a reboot or a kernel panic ends qemu instead of booting again', () => {
  const args = qemuArgs(options, 40001);
  assert.ok(args.includes('-no-reboot'));
  assert.match(values(args, '-append')[0] ?? '', /\bpanic=-1\b/);
  assert.match(values(args, '-append')[0] ?? '', /\binit=\/sbin\/playbook-init\b/);
});

test('a missing qemu is a skip, and a failure when everything is required', () => {
  const skipped = new VmUnavailableError('missing qemu-system-x86_64', { PLAYBOOK_REQUIRE_ALL: '0' });
  assert.ok(skipped instanceof UnavailableHere);
  assert.equal(skipped.status, 'skipped');
  const failed = new VmUnavailableError('missing qemu-system-x86_64', { PLAYBOOK_REQUIRE_ALL: '1' });
  assert.equal(failed.status, 'failed');
  assert.match(failed.message, /PLAYBOOK_REQUIRE_ALL=1 requires it/);
});
