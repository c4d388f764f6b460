import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getSnippet } from '../../scripts/snippets/registry.ts';
import { SnippetSchema } from '../../scripts/snippets/schema.ts';
import { runSnippet } from '../../scripts/verify/run-snippet.ts';

/** The registry's snippet with its host command replaced, as if someone edited the text and not the check. */
function withCommand(id: string, command: string) {
  const snippet = getSnippet(id);
  const host = snippet.flavors.host;
  assert.ok(host);
  return SnippetSchema.parse({ ...snippet, flavors: { host: { ...host, command } } });
}

test('a registered snippet passes its verification on a real server', async () => {
  const snippet = getSnippet('show-save-rules');
  const result = await runSnippet(snippet, 'host', snippet.flavors.host!);
  assert.equal(result.status, 'passed', result.error);
  assert.match(result.version, /^\d+\.\d+\.\d+$/);
});

test('a snippet whose command no longer does what its verification expects is reported as failed', async () => {
  const drifted = withCommand('show-save-rules', 'redis-cli -h {{host}} -p {{port}} CONFIG GET appendonly');
  const result = await runSnippet(drifted, 'host', drifted.flavors.host!);
  assert.equal(result.status, 'failed');
  assert.ok(result.error && result.error.length > 0);
  assert.match(result.output, /appendonly/, 'the output of the drifted command is recorded');
});

test('a crash drill whose kill no longer crashes the server fails verification', async () => {
  const original = getSnippet('crash-drill-no-persistence').flavors.host!.command;
  // A graceful shutdown instead of kill -9 is a different experiment: the drill must notice.
  const drifted = withCommand(
    'crash-drill-no-persistence',
    original.replace('--save ""', '--save "3600 1"').replace('kill -9 "$(cat "$dir/redis.pid")"', 'redis-cli -p "$port" SHUTDOWN'),
  );
  const result = await runSnippet(drifted, 'host', drifted.flavors.host!);
  assert.equal(result.status, 'failed');
  assert.match(result.output, /keys after kill -9 and restart: 50000/);
});

test('a failed verification records its output with temp paths shown as the documented defaults', async () => {
  const drifted = withCommand('config-data-location', 'redis-cli -h {{host}} -p {{port}} CONFIG GET dir');
  const result = await runSnippet(drifted, 'host', drifted.flavors.host!);
  assert.equal(result.status, 'failed');
  assert.doesNotMatch(result.output, /redis-playbook-/, 'temp paths are shown as the documented default');
  assert.match(result.output, /\/var\/lib\/redis/);
});
