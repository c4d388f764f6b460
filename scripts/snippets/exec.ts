import { execa, type Options } from 'execa';
import { currentSignal, onCancel } from '../core/cancel.ts';
import { killTree } from '../core/processes.ts';

/**
 * The one way a snippet's setup, values or check starts a program (execa's call, same options and
 * result): bound by the verification's signal (scripts/core/cancel.ts), so when its time is up the
 * program and everything it started (a `/bin/sh -c` line's children) are killed, not left running.
 * `npm run lint` (scripts/lint/processes.ts) refuses execa or child_process anywhere else
 * under scripts/snippets/.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- execa's own default: no options, its plain result.
export function exec<const O extends Options = {}>(file: string, args: readonly string[] = [], options?: O) {
  const child = execa(file, args, { ...options, cancelSignal: currentSignal(), forceKillAfterDelay: 500 } as O);
  const undo = onCancel(() => {
    if (child.pid !== undefined) killTree(child.pid);
  });
  child.then(undo, undo);
  return child;
}
