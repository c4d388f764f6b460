import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { PlaybookError } from './errors.ts';

/** Types `TYPE` answers for the core data types. */
export const CORE_TYPES = ['string', 'list', 'set', 'zset', 'hash', 'stream'] as const;

/** One key the server must hold after a recovery. */
export const ExpectedKeySchema = z
  .object({
    /** The key name. */
    key: z.string().min(1),
    /** Its database. */
    db: z.number().int().min(0).default(0),
    /** What `TYPE` must answer: a core type, or a module type name (a RedisBloom filter is `MBbloom--`). */
    type: z.string().min(1),
    /** Minimum number of elements (STRLEN for strings, LLEN, SCARD, ZCARD, HLEN, XLEN); core types only. */
    minSize: z.number().int().min(0).optional(),
    /** The module the type comes from (`bf` for RedisBloom): if it is not loaded, that is the reason given. */
    module: z.string().min(1).optional(),
  })
  .strict()
  .refine((entry) => entry.minSize === undefined || (CORE_TYPES as readonly string[]).includes(entry.type), {
    error: 'minSize is only available for core types (string, list, set, zset, hash, stream)',
    path: ['minSize'],
  });
export type ExpectedKey = z.infer<typeof ExpectedKeySchema>;

/** What must hold after a recovery. */
export const ExpectFileSchema = z
  .object({
    /** Minimum key count per database number. */
    databases: z
      .record(z.string().regex(/^\d+$/, 'a database number'), z.object({ minKeys: z.number().int().min(0) }).strict())
      .default({}),
    /** Keys that must exist, with type and size. */
    keys: z.array(ExpectedKeySchema).default([]),
  })
  .strict();
export type ExpectFile = z.infer<typeof ExpectFileSchema>;

/** The line of a YAML node at a path, for error messages. */
function lineOf(root: YamlNode | null, path: PropertyKey[], counter: LineCounter): number | undefined {
  let node: unknown = root;
  let line: number | undefined;
  for (const part of path) {
    if (isMap(node)) node = node.get(String(part), true);
    else if (isSeq(node)) node = node.get(Number(part), true);
    else break;
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) line = counter.linePos(range[0]).line;
  }
  return line ?? (root?.range ? counter.linePos(root.range[0]).line : undefined);
}

/**
 * Reads an expect file (YAML, or JSON which is YAML too) and validates it. Errors name the file and
 * line: `expect.yaml:7: keys.1.type: expected a string`.
 */
export async function readExpectFile(path: string): Promise<ExpectFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PlaybookError(
      'io',
      `Cannot read the expect file ${path}: ${code === 'ENOENT' ? 'it does not exist' : (error as Error).message}`,
      { cause: error },
    );
  }
  const counter = new LineCounter();
  const document = parseDocument(text, { lineCounter: counter, uniqueKeys: true });
  const syntax = document.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0]?.line;
    const kind = extname(path) === '.json' ? 'JSON/YAML' : 'YAML';
    throw new PlaybookError('usage', `${path}:${line ?? '?'}: not valid ${kind}: ${syntax.message.split('\n')[0]}`);
  }
  const parsed = ExpectFileSchema.safeParse(document.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    const line = lineOf(document.contents, issue?.path ?? [], counter);
    throw new PlaybookError('usage', `${path}:${line ?? 1}: ${where}${issue?.message ?? 'invalid'}`, { cause: parsed.error });
  }
  return parsed.data;
}
