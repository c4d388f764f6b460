import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setMethods } from '../../scripts/package/node20.ts';

// The package's bundle defines these on Node 20, which lacks them; here (Node 24) they must answer
// exactly as the built-in methods do, for sets and for set-likes (a Map: size, has, keys).
test('the Set methods the Node 20 bundle adds answer like the built-in ones', () => {
  const pairs: [Set<number>, Set<number> | Map<number, string>][] = [
    [new Set([1, 2, 3]), new Set([2, 3, 4])],
    [new Set([1, 2]), new Set([1, 2, 3])],
    [new Set(), new Set([1])],
    [
      new Set([5, 6]),
      new Map([
        [6, 'six'],
        [7, 'seven'],
      ]),
    ],
  ];
  for (const [a, b] of pairs) {
    for (const [name, method] of Object.entries(setMethods)) {
      const builtIn = (Set.prototype as unknown as Record<string, (other: unknown) => unknown>)[name]?.call(a, b);
      const ours = method.call(a, b);
      if (builtIn instanceof Set)
        assert.deepEqual(
          [...(ours as Set<unknown>)].sort(),
          [...builtIn].sort(),
          `${name} of ${[...a].join(',')} and ${[...b.keys()].join(',')}`,
        );
      else assert.equal(ours, builtIn, `${name} of ${[...a].join(',')} and ${[...b.keys()].join(',')}`);
    }
  }
});
