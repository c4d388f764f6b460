import assert from 'node:assert/strict';
import { chown } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareContainer, RedisContainer } from '../../harness/docker/container.ts';
import { docker } from '../../harness/docker/exec.ts';
import type { ContainerOptions, DockerNames } from '../../harness/docker/options.ts';
import { waitFor } from '../../harness/wait.ts';
import { infoFields } from '../outputs.ts';

/**
 * The Docker twin of service-user-server.ts: Redis in a container running as a user other than root,
 * as the official image runs it (its entrypoint drops to `redis`, uid 999). The playbook's own image
 * has no such user, so the container runs with `--user 999:999`, its volume's root and the harness's
 * dir (config file, socket) given to that uid first. Root in the container (`docker exec -u root`)
 * can still take /data away from it, which is how a restore or a copy done as root breaks saves.
 */
export const SERVICE_UID = 999;

/** A {@link RedisContainer} whose server runs as {@link SERVICE_UID}. */
export class ServiceUserContainer extends RedisContainer {
  /** The volume's root and the harness's dir (config file, socket) go to {@link SERVICE_UID} first. */
  protected override async prepareVolume(): Promise<void> {
    const run = this.harnessDir;
    assert.ok(run, 'the harness dir is mounted');
    await docker([
      'run',
      '--rm',
      '--network',
      'none',
      '--volume',
      `${this.volume}:/data`,
      this.image,
      'chown',
      `${SERVICE_UID}:${SERVICE_UID}`,
      '/data',
    ]);
    await chown(run, SERVICE_UID, SERVICE_UID);
    await chown(join(run, 'harness.conf'), SERVICE_UID, SERVICE_UID);
  }

  protected override runAs(): string[] {
    return ['--user', `${SERVICE_UID}:${SERVICE_UID}`];
  }

  /** A field of INFO persistence. */
  async persistence(field: string): Promise<string | undefined> {
    return infoFields((await this.cli(['INFO', 'persistence'])).stdout)[field];
  }

  /** Waits until no BGSAVE runs, then returns the status of the last one (`ok` or `err`). */
  async bgsaveDone(): Promise<string> {
    await waitFor(async () => (await this.persistence('rdb_bgsave_in_progress')) === '0', { what: 'the BGSAVE to end', timeoutMs: 15_000 });
    return (await this.persistence('rdb_last_bgsave_status')) ?? '';
  }
}

/** Starts a disposable container (named `names`, image `image`) whose Redis runs as {@link SERVICE_UID}. Dispose it. */
export async function startServiceUserContainer(
  options: ContainerOptions,
  names: DockerNames,
  image: string,
): Promise<ServiceUserContainer> {
  const container = await prepareContainer(options, { names, image }, (init) => new ServiceUserContainer(init));
  try {
    await container.create();
    await container.start();
    return container;
  } catch (error) {
    await container.dispose().catch(() => undefined);
    throw error;
  }
}
