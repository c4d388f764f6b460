import { z } from 'zod';

/**
 * Who answered a verification: the server's own identity, from `INFO server` of the process that
 * served the page's commands (`source: info`), or, for a block whose command starts and stops its own
 * server, the `--version` line of the engine's server program that ran (`source: version-line`).
 */
export const ServerIdentitySchema = z.object({
  /** `redis` or `valkey` (`server_name` of Valkey; Redis has none). */
  product: z.enum(['redis', 'valkey']),
  /** The product's own version: `valkey_version` for Valkey (its `redis_version` is a compatibility value), else `redis_version`. */
  version: z.string(),
  /** `redis_build_id` (Valkey names it the same), or the `build=` of a version line. */
  buildId: z.string().optional(),
  /** Where the identity was read. */
  source: z.enum(['info', 'version-line']),
  /** What the server printed, one line: `redis_version:7.0.15 redis_build_id:…` or its `--version` line. */
  line: z.string(),
  /** The engine id it ran as, for a block that uses several engines by design (the versions page). */
  engineId: z.string().optional(),
  /** The image it ran from, for a Docker block that moves a service between images (an upgrade and its undo). */
  image: z.string().optional(),
});
export type ServerIdentity = z.infer<typeof ServerIdentitySchema>;

/** The identity in `INFO server` fields (a section parsed into name → value). */
export function identityFromInfo(fields: Record<string, string | undefined>): ServerIdentity | undefined {
  const valkey = fields.valkey_version;
  const product = fields.server_name === 'valkey' || valkey !== undefined ? 'valkey' : 'redis';
  const version = product === 'valkey' ? valkey : fields.redis_version;
  if (!version) return undefined;
  const names = ['server_name', 'redis_version', 'valkey_version', 'redis_build_id', 'redis_git_sha1'];
  const line = names.flatMap((name) => (fields[name] === undefined ? [] : [`${name}:${fields[name]}`])).join(' ');
  return { product, version, ...(fields.redis_build_id ? { buildId: fields.redis_build_id } : {}), source: 'info', line };
}

/** The identity in a server's `--version` line (`Valkey server v=8.1.1 sha=… build=…`). */
export function identityFromVersionLine(line: string): ServerIdentity | undefined {
  const text = line.trim().split('\n')[0] ?? '';
  const match = /^(Redis|Valkey) server v=(\d+\.\d+\.\d+)/.exec(text);
  if (!match) return undefined;
  const build = /\bbuild=([0-9a-f]+)/.exec(text)?.[1];
  return {
    product: match[1] === 'Valkey' ? 'valkey' : 'redis',
    version: match[2] as string,
    ...(build ? { buildId: build } : {}),
    source: 'version-line',
    line: text,
  };
}

/** `Valkey 8.1.1`. */
export function identityName(identity: Pick<ServerIdentity, 'product' | 'version'>): string {
  return `${identity.product === 'valkey' ? 'Valkey' : 'Redis'} ${identity.version}`;
}

/** What a result is filed under: the engine's id, product and (when the catalog pins one) exact version. */
export interface FiledEngine {
  id: string;
  product: string;
  version?: string | undefined;
}

/**
 * Why the server that answered is not the engine a result is filed under, or undefined when it is:
 * the product must be the engine's, and the version its pinned one (else the `major.minor` of its id).
 */
export function identityMismatch(engine: FiledEngine, identity: ServerIdentity): string | undefined {
  const series = /-(\d+\.\d+)/.exec(engine.id)?.[1];
  const sameProduct = identity.product === engine.product;
  const sameVersion = engine.version
    ? identity.version === engine.version
    : series === undefined || identity.version.startsWith(`${series}.`);
  if (sameProduct && sameVersion) return undefined;
  const expected = `${engine.product === 'valkey' ? 'Valkey' : 'Redis'} ${engine.version ?? series ?? ''}`.trim();
  return `answered by ${identityName(identity)} (${identity.line}), not by the engine this result is filed under (${engine.id}, ${expected})`;
}
