/**
 * Whether the power-loss VM can run here, and what its checks do when it cannot: skipped on a machine
 * without qemu (or the tools that build its image), failed when everything is required
 * (`PLAYBOOK_REQUIRE_ALL=1`, set by `.ci/run`: scripts/harness/require-all.ts), as the Docker checks do.
 */
import { findOnPath } from '../docker/exec.ts';
import { UnavailableHere } from '../require-all.ts';

/** The programs the VM needs at run time: qemu, and mkfs.ext4 for each run's data disk. */
export const VM_RUN_TOOLS = ['qemu-system-x86_64', 'mkfs.ext4'] as const;

/** Programs of `names` not found on PATH (the sbin dirs included: mkfs.ext4 and chroot live there). */
export function vmToolsMissing(names: readonly string[]): string[] {
  const path = [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(':');
  return names.filter((name) => findOnPath(name, path) === undefined);
}

/** A power-loss check that cannot run here: skipped, or failed when everything is required. */
export class VmUnavailableError extends UnavailableHere {
  constructor(detail: string, env: NodeJS.ProcessEnv = process.env) {
    super('The power-loss VM', detail, env);
    this.name = 'VmUnavailableError';
  }
}

/** Throws {@link VmUnavailableError} when a program the VM needs at run time is missing. */
export function requireVmTools(env: NodeJS.ProcessEnv = process.env): void {
  const missing = vmToolsMissing(VM_RUN_TOOLS);
  if (missing.length > 0) throw new VmUnavailableError(`missing ${missing.join(', ')}; scripts/setup.sh installs them`, env);
}
