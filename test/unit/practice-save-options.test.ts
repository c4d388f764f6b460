import assert from 'node:assert/strict';
import { test } from 'node:test';
import { saveOptions } from '../../scripts/snippets/practice.ts';

test('save rules become one --save option a pair, the form every engine reads (Redis 6.0 too)', () => {
  assert.equal(saveOptions('900 1 300 10 60 10000'), '--save 900 1 --save 300 10 --save 60 10000');
  assert.equal(saveOptions(' 3600 1 '), '--save 3600 1');
});

test('save rules that are not pairs of numbers are refused', () => {
  assert.throws(() => saveOptions('900 1 300'), /pairs of numbers, got "900 1 300"/);
  assert.throws(() => saveOptions('900 one'), /pairs of numbers/);
  assert.throws(() => saveOptions(''), /pairs of numbers/);
});
