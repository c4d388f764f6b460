import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { freePort } from '../../scripts/harness/free-port.ts';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import { assertOneLineFailure, runCli } from '../support/run-cli.ts';

/** A TCP server on 127.0.0.1 that does `onConnection` with each socket; closes it and its sockets on dispose. */
async function tcpServer(onConnection: (socket: Socket) => void): Promise<{ url: string } & AsyncDisposable> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  return listen(server, sockets);
}

async function listen(server: Server, sockets: Set<Socket>): Promise<{ url: string } & AsyncDisposable> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    url: `redis://127.0.0.1:${address.port}`,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

test('nothing listening on the port: exit 3 "Cannot reach"', async () => {
  const port = await freePort();
  const run = await runCli(['inspect', '--url', `redis://127.0.0.1:${port}`]);
  assertOneLineFailure(run, 3, new RegExp(`Cannot reach redis://127\\.0\\.0\\.1:${port}: connection refused`));
});

test('a wrong password: exit 4', async () => {
  await using redis = await startRedis({ password: 'right-password' });
  const run = await runCli(['inspect', '--url', redis.url, '--json'], { REDISCLI_AUTH: 'wrong-password' });
  assertOneLineFailure(run, 4, /Authentication failed at redis:\/\/127\.0\.0\.1:\d+: wrong password/);
  assert.doesNotMatch(run.stderr, /wrong-password/);
});

test('a TCP server that greets with an SSH banner: exit 5 "not a Redis server"', async () => {
  await using ssh = await tcpServer((socket) => socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
  const run = await runCli(['inspect', '--url', ssh.url]);
  assertOneLineFailure(run, 5, /is not a Redis server: it answered in a protocol other than Redis's \(its answer starts with "S"\)/);
});

test('an HTTP server: exit 5 "not a Redis server"', async () => {
  const sockets = new Set<Socket>();
  const http = createHttpServer((_request, response) => response.end('hello'));
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await using server = await listen(http, sockets);
  const run = await runCli(['inspect', '--url', server.url]);
  assertOneLineFailure(run, 5, /is not a Redis server: it answered in a protocol other than Redis's \(its answer starts with "H"\)/);
});

test('a server that accepts and never answers: exit 5 after --timeout', async () => {
  await using silent = await tcpServer(() => undefined);
  const run = await runCli(['inspect', '--url', silent.url, '--timeout', '300']);
  assertOneLineFailure(run, 5, /accepted the connection but did not answer PING within 300 ms: is it a Redis server\?/);
});

test('a server that answers +OK to everything: exit 5', async () => {
  await using parrot = await tcpServer((socket) => socket.on('data', () => socket.write('+OK\r\n')));
  const run = await runCli(['inspect', '--url', parrot.url]);
  assertOneLineFailure(run, 5, /is not a Redis server: it answered PING with "OK"/);
});

test('bad URLs: exit 2', async () => {
  for (const [url, pattern] of [
    ['http://127.0.0.1:6379', /Expected a redis:\/\/ or rediss:\/\/ URL, got the scheme "http:\/\/"/],
    ['127.0.0.1:6379', /Expected --url like redis:\/\/127\.0\.0\.1:6379/],
    ['redis://127.0.0.1:99999', /port from 1 to 65535/],
  ] as const) {
    assertOneLineFailure(await runCli(['inspect', '--url', url]), 2, pattern);
  }
});

test('CONFIG disabled with rename-command: exit 1 naming CONFIG GET and why it is needed', async () => {
  await using redis = await startRedis({ config: { 'rename-command': 'CONFIG ""' } });
  const run = await runCli(['inspect', '--url', redis.url]);
  assertOneLineFailure(
    run,
    1,
    /refused CONFIG GET \(ERR unknown command 'CONFIG'.*\): inspect needs it to read dir, dbfilename, save, appendonly/,
  );
});
