import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SnippetSchema } from '../../scripts/snippets/schema.ts';

const base = { id: 'x', title: 'X', page: 'recovery/rollback' };
const host = { command: 'sudo systemctl stop redis-server', server: false as const, systemd: true, verify: async () => undefined };

test("a host flavor under systemd runs only Debian bookworm's package: engines ['redis-7.0'] and server: false", () => {
  assert.equal(SnippetSchema.safeParse({ ...base, engines: ['redis-7.0'], flavors: { host } }).success, true);
  assert.equal(SnippetSchema.safeParse({ ...base, flavors: { host } }).success, false, 'without engines');
  assert.equal(SnippetSchema.safeParse({ ...base, engines: ['redis-8.0'], flavors: { host } }).success, false, 'another engine');
  assert.equal(
    SnippetSchema.safeParse({ ...base, engines: ['redis-7.0'], flavors: { host: { ...host, server: {} } } }).success,
    false,
    'with a disposable server',
  );
});
