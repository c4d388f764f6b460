import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventsBetween } from '../../scripts/procedures/watch.ts';

const idle = {
  saving: false,
  rewriting: false,
  saves: 3,
  lastSave: 100,
  rewrites: 1,
  changes: 5,
  saveStatus: 'ok',
  saveSec: 1,
  rewriteStatus: 'ok',
  rewriteSec: 0,
  writeStatus: 'ok',
  forkUsec: 200,
};
const time = '2026-11-25T12:00:00.000Z';

test('a save seen in progress then done gives a start and a finish', () => {
  assert.deepEqual(
    eventsBetween(idle, { ...idle, saving: true, saves: 4 }, time).map((e) => e.event),
    ['save-started'],
  );
  assert.deepEqual(
    eventsBetween({ ...idle, saving: true, saves: 4 }, { ...idle, saves: 4, lastSave: 101, saveSec: 2 }, time).map((e) => [
      e.event,
      e.durationSec,
    ]),
    [['save-finished', 2]],
  );
});

test('a save that began and ended between two polls is still reported, marked inferred', () => {
  const events = eventsBetween(idle, { ...idle, saves: 4, lastSave: 101 }, time);
  assert.deepEqual(
    events.map((e) => [e.event, e.inferred]),
    [
      ['save-started', true],
      ['save-finished', undefined],
    ],
  );
});

test('a failed save is reported as an error', () => {
  const events = eventsBetween({ ...idle, saving: true }, { ...idle, saveStatus: 'err' }, time);
  assert.deepEqual(
    events.map((e) => [e.event, e.status]),
    [['save-error', 'err']],
  );
});

test('without rdb_saves (Redis 6.0) a save between two polls is seen by its new LASTSAVE or its err status', () => {
  const old = { ...idle, saves: undefined };
  assert.deepEqual(
    eventsBetween(old, { ...old, lastSave: 101 }, time).map((e) => [e.event, e.inferred]),
    [
      ['save-started', true],
      ['save-finished', undefined],
    ],
  );
  assert.deepEqual(
    eventsBetween(old, { ...old, saveStatus: 'err' }, time).map((e) => e.event),
    ['save-started', 'save-error'],
  );
  assert.deepEqual(eventsBetween(old, { ...old, changes: 9 }, time), [], 'nothing changed but the writes: no save');
});
