import { randomBytes } from 'node:crypto';
import { composeDescription } from '../harness/docker/compose.ts';
import { dockerTry } from '../harness/docker/exec.ts';
import type { ImageInfo } from '../harness/docker/image.ts';
import { TEMP_PREFIX } from '../harness/leftovers.ts';

/** What a Docker result ran on, besides the server's own identity. */
export interface DockerIdentity {
  /** The image's content-addressed ID (`sha256:…`), as `docker image inspect` gives it. */
  imageId: string;
  /** official: the engine's official image; local-build: built here from Debian's packages; override: REDIS_PLAYBOOK_IMAGE. */
  imageOrigin: 'official' | 'local-build' | 'override';
  /** Which Compose this machine runs page commands with: `docker compose 2.40.3` (v2) or `docker-compose 1.29.2` (v1). */
  compose: string;
}

const once = new Map<string, Promise<string>>();
function memo(key: string, make: () => Promise<string>): Promise<string> {
  let value = once.get(key);
  if (!value) {
    value = make();
    once.set(key, value);
    value.catch(() => once.delete(key));
  }
  return value;
}

/** The image ID of a tag. */
export function imageId(tag: string): Promise<string> {
  return memo(`id:${tag}`, async () => {
    const result = await dockerTry(['image', 'inspect', '--format', '{{.Id}}', tag]);
    if (result.exitCode !== 0) throw new Error(`docker image inspect ${tag} failed: ${result.stderr.trim()}`);
    return result.stdout.trim();
  });
}

/** The `redis-server --version` line of an image (a throwaway container without network). */
export function imageVersionLine(tag: string): Promise<string> {
  return memo(`version:${tag}`, async () => {
    const name = `${TEMP_PREFIX}${randomBytes(4).toString('hex')}-version`;
    const result = await dockerTry(['run', '--rm', '--name', name, '--network', 'none', tag, 'redis-server', '--version']);
    if (result.exitCode !== 0) throw new Error(`redis-server --version in ${tag} failed: ${result.stderr.trim()}`);
    return result.stdout.trim();
  });
}

/** The image and Compose identity of a Docker flavor's run. */
export async function dockerIdentity(image: ImageInfo): Promise<DockerIdentity> {
  const imageOrigin = image.status === 'official' ? 'official' : image.status === 'override' ? 'override' : 'local-build';
  return { imageId: await imageId(image.tag), imageOrigin, compose: await composeDescription() };
}
