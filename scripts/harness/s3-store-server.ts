/**
 * The S3-compatible store of the offsite drill, as its own process: s3rver (from the engine cache,
 * `S3_MODULES`) over TLS on 127.0.0.1:`S3_PORT`, objects in `S3_DIR`, one bucket `S3_BUCKET`. The
 * access key pair comes from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (never argv); s3rver's
 * built-in `S3RVER` key is revoked, so only that key ID is let in. Prints `ready` when it listens.
 * (s3rver checks the key ID of a SigV4 request, not its signature: the secret is not verified.)
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const require = createRequire(join(env('S3_MODULES'), 'noop.js'));
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<unknown> };
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account') as {
  DUMMY_ACCOUNT: { revokeAccessKey(id: string): void; createKeyPair(id: string, secret: string): void };
};
DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
DUMMY_ACCOUNT.createKeyPair(env('AWS_ACCESS_KEY_ID'), env('AWS_SECRET_ACCESS_KEY'));
await new S3rver({
  address: '127.0.0.1',
  port: Number(env('S3_PORT')),
  directory: env('S3_DIR'),
  silent: true,
  key: readFileSync(env('S3_TLS_KEY')),
  cert: readFileSync(env('S3_TLS_CERT')),
  configureBuckets: [{ name: env('S3_BUCKET') }],
}).run();
process.stdout.write('ready\n');
