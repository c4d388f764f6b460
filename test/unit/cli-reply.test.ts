import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCliReply, RedisReplyError, unquote } from '../../scripts/redis/cli-reply.ts';

test('redis-cli --no-raw scalars read back as ioredis gives them', () => {
  assert.equal(parseCliReply('PONG\n'), 'PONG');
  assert.equal(parseCliReply('Background saving started\n'), 'Background saving started');
  assert.equal(parseCliReply('(integer) 1795645253\n'), 1795645253);
  assert.equal(parseCliReply('(integer) -2\n'), -2);
  assert.equal(parseCliReply('(nil)\n'), null);
  assert.deepEqual(parseCliReply('(empty array)\n'), []);
  assert.deepEqual(parseCliReply('(empty list or set)\n'), []);
  assert.equal(parseCliReply('""\n'), '');
  assert.equal(parseCliReply('"3600 1 300 100 60 10000"\n'), '3600 1 300 100 60 10000');
});

test('quoted strings decode every escape redis-cli writes, UTF-8 included', () => {
  assert.equal(unquote(String.raw`"a\"b\nc\\d"`), 'a"b\nc\\d');
  assert.equal(unquote(String.raw`"\r\t\a\b"`), '\r\t\x07\b');
  assert.equal(unquote(String.raw`"\x00\x7f"`), '\x00\x7f');
  assert.equal(unquote(String.raw`"caf\xc3\xa9"`), 'café');
  assert.throws(() => unquote('no quotes'));
});

test("an error reply is an error with the server's text", () => {
  const reply = parseCliReply("(error) ERR unknown command 'FOO', with args beginning with: \n");
  assert.ok(reply instanceof RedisReplyError);
  assert.equal(reply.message, "ERR unknown command 'FOO', with args beginning with: ");
});

test('arrays: CONFIG GET pairs, padded indexes from 10 elements on, and nested arrays', () => {
  assert.deepEqual(parseCliReply('1) "dir"\n2) "/data"\n'), ['dir', '/data']);
  const ten = Array.from({ length: 10 }, (_, i) => `${String(i + 1).padStart(2)}) "v${i}"`).join('\n');
  assert.deepEqual(
    parseCliReply(`${ten}\n`),
    Array.from({ length: 10 }, (_, i) => `v${i}`),
  );
  // Printed by redis-cli 7.0 for EVAL "return {'get', 2, {'readonly','fast'}, {}, {1,…,11}}" 0.
  const nested = [
    '1) "get"',
    '2) (integer) 2',
    '3) 1) "readonly"',
    '   2) "fast"',
    '4) (empty array)',
    '5)  1) (integer) 1',
    ...[2, 3, 4, 5, 6, 7, 8, 9].map((n) => `    ${n}) (integer) ${n}`),
    '   10) (integer) 10',
    '   11) (integer) 11',
    '',
  ].join('\n');
  assert.deepEqual(parseCliReply(nested), ['get', 2, ['readonly', 'fast'], [], Array.from({ length: 11 }, (_, i) => i + 1)]);
  assert.deepEqual(parseCliReply('1) 1) "a"\n   2) "b"\n'), [['a', 'b']]);
});

test('output that redis-cli --no-raw never prints is refused, not guessed', () => {
  assert.throws(() => parseCliReply('line one\nline two\n'), /Unexpected redis-cli output/);
  assert.throws(() => parseCliReply('1) "a"\ngarbage\n'), /Unexpected redis-cli array line/);
});
