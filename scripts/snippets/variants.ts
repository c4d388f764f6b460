import { engineSpecs, type EngineSpec } from '../engines/catalog.ts';
import type { Variant } from './schema.ts';

/** The catalog's engines with a trait, and how the page names them ("Valkey 9.1"). */
export function enginesWhere(test: (traits: EngineSpec['traits']) => boolean): { engines: string[]; label: string } {
  const specs = engineSpecs.filter((spec) => test(spec.traits));
  if (specs.length === 0) throw new Error('No engine of the catalog has this trait: drop the variant');
  return { engines: specs.map((spec) => spec.id), label: specs.map((spec) => spec.label).join(', ') };
}

/**
 * Where the AOF checker misreads its own RDB base (valkey-check-aof 9.1.2 on a `VALKEY080` base,
 * valkey-io/valkey#4739): the command that gives it the last incr file instead of the manifest.
 */
export function lastIncrVariant(command: string): Variant {
  return misreadBaseVariant(
    'its checker calls the RDB base file invalid, so give it the last incr file, the only one --fix can cut.',
    command,
  );
}

/** Where the AOF checker misreads its own RDB base (Valkey 9.1): another command, and why. */
export function misreadBaseVariant(why: string, command: string): Variant {
  return { ...enginesWhere((traits) => traits.checkAofMisreadsBase), why, command };
}

/**
 * Shell lines that check each file of an AOF set by itself, as the server loads it: the RDB base with
 * redis-check-rdb (its verdict line, `RDB looks OK`, or the loop stops), every other file with
 * redis-check-aof (its last line). `check` joins a checker's call and the filter of its output into
 * one line (`call | filter` where pipefail is on). `manifest` is the manifest's file name in `dir`
 * (`appendonly.aof.manifest`, or `$aof.manifest`); both go inside double quotes.
 */
export function checkEachAofFile(dir: string, manifest: string, check: (call: string, filter: string) => string): string[] {
  return [
    `for f in $(sed -n "s/^file \\(.*\\) seq .* type [bi].*/\\1/p" "${dir}/${manifest}"); do`,
    `  case $f in *.rdb) ${check(`redis-check-rdb "${dir}/$f"`, 'grep -F "RDB looks OK"')} ;; *) ${check(`redis-check-aof "${dir}/$f"`, 'tail -n 1')} ;; esac`,
    'done',
  ];
}

/**
 * A variant for the engines whose traits pass `test` (scripts/engines/catalog.ts: never name an
 * engine id where a trait says why): another command for them, or (no `command`) the main one with a
 * note of what they answer differently, which the verification must assert.
 */
export function engineVariant(test: (traits: EngineSpec['traits']) => boolean, why: string, command?: string): Variant {
  return { ...enginesWhere(test), why, ...(command === undefined ? {} : { command }) };
}

/** Where the AOF is one `appendonly.aof` in the data dir (Redis 6.0: no `appendonlydir`, no manifest). */
export function singleFileAofVariant(why: string, command?: string): Variant {
  return engineVariant((traits) => traits.aofLayout === 'file', why, command);
}

/**
 * The shell line that sets `incr` to the last incr file a manifest lists (`file appendonly.aof.2.incr.aof seq 2 type i`).
 * `manifest` is the manifest's path as the script sees it.
 */
export const lastIncrLine = (manifest: string) => `incr=$(sed -n "s/^file \\(.*\\) seq .* type i.*/\\1/p" ${manifest} | tail -n 1)`;

/** `text` with `from` replaced by `to`, every time; throws when `from` is not in it (a variant that silently equals its main command). */
export function replaced(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`Variant: ${JSON.stringify(from.slice(0, 60))} is not in the command it changes`);
  return text.replaceAll(from, to);
}

/** `text` with each pair `[from, to]` replaced in turn, as {@link replaced} does (each `from` must be there when its turn comes). */
export function replacedEach(text: string, pairs: readonly (readonly [string, string])[]): string {
  return pairs.reduce((result, [from, to]) => replaced(result, from, to), text);
}
