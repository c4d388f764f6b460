#!/usr/bin/env node
/**
 * `node scripts/lint/cli-reference.ts` (part of `npm run lint`): fails when the CLI reference page
 * (content/docs/reference/cli.mdx) is not what the CLI's schemas make of it now, naming the command
 * that rewrites it. With `--write` (`npm run cli-reference`) it writes the page.
 * Exits 0 when the page is current (or written), 1 when it is stale or missing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_REFERENCE_PAGE, cliReferencePage } from '../cli/reference-page.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const path = join(root, CLI_REFERENCE_PAGE);
const page = cliReferencePage();
if (process.argv.includes('--write')) {
  await writeFile(path, page);
  console.log(`cli reference: wrote ${CLI_REFERENCE_PAGE}`);
} else {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === page) {
    console.log(`cli reference: ${CLI_REFERENCE_PAGE} is current`);
  } else {
    console.error(
      `${CLI_REFERENCE_PAGE}: ${current === undefined ? 'missing' : 'stale'}: the CLI's schemas changed; run npm run cli-reference`,
    );
    process.exitCode = 1;
  }
}
