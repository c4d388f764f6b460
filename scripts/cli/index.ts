// The library entry of the npm package `redis-playbook` (its "main" and "types"; the CLI is its "bin"):
// what a script that calls the CLI needs to read its results. Its declarations are emitted from this
// file alone, so its types are written out here rather than inferred from the zod schemas: the
// package has no dependencies, not even for its types. The JSON Schemas of the `--json` outputs ship
// beside it in `schemas/`.
import { exitCodes as table, type ExitCode } from './exit-codes.ts';
import { versionLine } from './version.ts';

/** An error kind of `redis-playbook`, as its one-line errors and exit codes name it. */
export type ExitKind =
  'ok' | 'other' | 'usage' | 'unreachable' | 'auth' | 'protocol' | 'io' | 'backup' | 'state' | 'docker' | 'mismatch' | 'cluster' | 'undo';

/** One documented exit code of `redis-playbook`. */
export interface ExitCodeEntry {
  /** The process exit status. */
  readonly code: number;
  /** The kind of outcome it stands for. */
  readonly kind: ExitKind;
  /** When it happens, in one sentence. */
  readonly meaning: string;
}

/** Every exit code of `redis-playbook`, in numeric order (the table of `redis-playbook --help`). */
export const exitCodes: readonly ExitCodeEntry[] = table satisfies readonly ExitCode[];

/** The version of this package and the commit it was built from, as `redis-playbook --version` prints it. */
export const version: string = versionLine();
