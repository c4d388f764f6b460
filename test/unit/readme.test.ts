import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { exitCodes } from '../../scripts/cli/exit-codes.ts';

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');

test('the README lists every exit code exactly as the CLI documents it', () => {
  const rows = readme.split('\n').filter((line) => /^\| \d+ \|/.test(line));
  assert.deepEqual(
    rows,
    exitCodes.map((entry) => `| ${entry.code} | ${entry.kind} | ${entry.meaning} |`),
  );
});

test('the README gives the two commands that CI and a newcomer run', () => {
  assert.match(readme, /^bash scripts\/setup\.sh && npm start$/m);
  assert.match(readme, /^bash scripts\/setup\.sh && npm test$/m);
});
