import { z } from 'zod';

/** One line of a Redis 7 AOF manifest: `file appendonly.aof.1.base.rdb seq 1 type b`. */
export const AofManifestEntrySchema = z.object({
  /** File name inside the AOF directory. */
  file: z
    .string()
    .min(1)
    .refine((name) => !name.includes('/'), 'a file name, not a path'),
  /** Sequence number. */
  seq: z.number().int().nonnegative(),
  /** `b` base, `h` history (about to be deleted), `i` incremental. */
  type: z.enum(['b', 'h', 'i']),
});
export type AofManifestEntry = z.infer<typeof AofManifestEntrySchema>;

/**
 * Parses an AOF manifest. Lines are `key value` pairs; unknown keys (Redis 8 adds `startoffset`,
 * `endoffset`) are ignored. Throws on a line without file, seq or type.
 */
export function parseAofManifest(text: string): AofManifestEntry[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line, index) => {
      const words = line.split(/\s+/);
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < words.length; i += 2) fields[words[i] as string] = words[i + 1] as string;
      const parsed = AofManifestEntrySchema.safeParse({ file: fields.file, seq: Number(fields.seq), type: fields.type });
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const why =
          issue?.path[0] === 'file' && fields.file
            ? `names ${fields.file}: ${issue.message}`
            : `is not "file NAME seq N type b|h|i": ${line}`;
        throw new Error(`AOF manifest line ${index + 1} ${why}`);
      }
      return parsed.data;
    });
}

/** The manifest file name for an `appendfilename` (`appendonly.aof` → `appendonly.aof.manifest`). */
export function aofManifestName(appendfilename: string): string {
  return `${appendfilename}.manifest`;
}

/** A one-base manifest that makes `<appendfilename>.1.base.rdb` the whole AOF (offline restore). */
export function baseOnlyManifest(appendfilename: string): { baseFile: string; text: string } {
  const baseFile = `${appendfilename}.1.base.rdb`;
  return { baseFile, text: `file ${baseFile} seq 1 type b\n` };
}
