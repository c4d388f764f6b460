import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freeClusterPorts } from '../../scripts/procedures/scratch-cluster.ts';

/** Binds 127.0.0.1:PORT and releases it: whether it was free. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      server.close(() => {
        resolve(true);
      }),
    );
  });
}

test('cluster ports are never the same twice, and they and their bus ports are free and below the ephemeral range', async () => {
  const [low = 32_768] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/).map(Number);
  const ports = await freeClusterPorts(40);
  assert.equal(new Set(ports).size, ports.length, `distinct: ${ports.join(' ')}`);
  for (const port of ports) {
    assert.ok(port > 1024 && port + 10_000 < low, `${port} and its bus port ${port + 10_000} are below ${low}`);
    assert.ok(await bindable(port), `${port} is free`);
    assert.ok(await bindable(port + 10_000), `its bus port ${port + 10_000} is free`);
  }
});
