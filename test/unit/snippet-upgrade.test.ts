import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SnippetSchema } from '../../scripts/snippets/schema.ts';

const base = { id: 'x', title: 'X', page: 'operations/moving-between-versions', crossEngine: true, engines: ['redis-8.6', 'valkey-9.1'] };
const docker = { command: 'docker compose up -d {{service}}', compose: true, upgradeFrom: 'redis-7.0', verify: async () => undefined };

test('a Docker flavor that upgrades a Compose service names an engine it starts on, left out of the engines it is filed under', () => {
  assert.equal(SnippetSchema.safeParse({ ...base, flavors: { docker } }).success, true);
  assert.equal(SnippetSchema.safeParse({ ...base, crossEngine: false, flavors: { docker } }).success, false, 'not crossEngine');
  assert.equal(SnippetSchema.safeParse({ ...base, engines: undefined, flavors: { docker } }).success, false, 'without engines');
  assert.equal(
    SnippetSchema.safeParse({ ...base, engines: ['redis-7.0', 'redis-8.6'], flavors: { docker } }).success,
    false,
    'filed under the engine it starts on',
  );
  assert.equal(
    SnippetSchema.safeParse({ ...base, flavors: { docker: { ...docker, compose: false } } }).success,
    false,
    'not a Compose project',
  );
  assert.equal(
    SnippetSchema.safeParse({ ...base, flavors: { docker: { ...docker, upgradeFrom: 'redis-9.9' } } }).success,
    false,
    'an engine the catalog lacks',
  );
});

test('{{newImage}} is a known placeholder with a documented default', () => {
  const parsed = SnippetSchema.safeParse({
    ...base,
    flavors: { docker: { ...docker, command: "sed -i 's#image: {{image}}$#image: {{newImage}}#' docker-compose.yml" } },
  });
  assert.equal(parsed.success, true);
});
