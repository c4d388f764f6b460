// Evaluated first in the package's bundles (`npm run build:cli`): the few things newer than Node 20 that
// bundled code calls and esbuild cannot lower, defined only where the running Node lacks them. execa 10
// builds its option tables with Set.prototype.union (Node 22); the integration suite run against the
// installed package on Node 20 is what shows nothing else is missing.

interface SetLike<T> {
  size: number;
  has(value: T): boolean;
  keys(): Iterator<T>;
}

function keysOf<T>(other: SetLike<T>): Iterable<T> {
  return { [Symbol.iterator]: () => other.keys() };
}

export const setMethods: Record<string, (this: Set<unknown>, other: SetLike<unknown>) => unknown> = {
  union(other) {
    const result = new Set(this);
    for (const value of keysOf(other)) result.add(value);
    return result;
  },
  intersection(other) {
    return new Set([...this].filter((value) => other.has(value)));
  },
  difference(other) {
    return new Set([...this].filter((value) => !other.has(value)));
  },
  symmetricDifference(other) {
    const result = new Set(this);
    for (const value of keysOf(other)) {
      if (this.has(value)) result.delete(value);
      else result.add(value);
    }
    return result;
  },
  isSubsetOf(other) {
    return [...this].every((value) => other.has(value));
  },
  isSupersetOf(other) {
    for (const value of keysOf(other)) if (!this.has(value)) return false;
    return true;
  },
  isDisjointFrom(other) {
    return [...this].every((value) => !other.has(value));
  },
};

for (const [name, method] of Object.entries(setMethods)) {
  if (!(name in Set.prototype))
    Object.defineProperty(Set.prototype, name, { value: method, writable: true, configurable: true, enumerable: false });
}
