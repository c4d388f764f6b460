import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaultResultSchema, type FaultResult } from './schema.ts';

/** Where the fault tests write their records (one JSON file a case; `report/` is not committed). */
export const FAULTS_DIR = fileURLToPath(new URL('../../report/faults/', import.meta.url));

/** The repository's root, against which a record's test file is named. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** SHA-256 of a file's content, hex. */
export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A recorded case and whether its test file is still the one that ran it. */
export interface FaultRow extends FaultResult {
  /** The test file changed (or is gone) since it recorded this case: what it says may no longer hold. */
  stale: boolean;
}

/** Every record in `dir` (none when no fault test ran here), each checked against its test file. */
export function loadFaultRows(dir: string = FAULTS_DIR, root: string = REPO_ROOT): FaultRow[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const result = FaultResultSchema.parse(JSON.parse(readFileSync(join(dir, name), 'utf8')));
      const file = join(root, result.test.file);
      return { ...result, stale: !existsSync(file) || fileSha256(file) !== result.test.sha256 };
    });
}
