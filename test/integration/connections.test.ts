import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { freePort } from '../../scripts/harness/free-port.ts';
import { startRedis } from '../../scripts/harness/redis-server.ts';
import type { BackupManifest } from '../../scripts/procedures/manifest.ts';
import { ACL_RULES } from '../../scripts/procedures/server-refusal.ts';
import { writeMixedDataset } from '../../scripts/redis/dataset.ts';
import { answeringServer, faultCase, faultCases } from '../support/faults.ts';
import { assertOneLineFailure, inspectJson, runCli } from '../support/run-cli.ts';

/** A CA and a server certificate for 127.0.0.1/localhost, and a client certificate, made with openssl in `dir`. */
async function makeCertificates(dir: string) {
  const file = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execa('openssl', args, { cwd: dir });
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=playbook test CA',
  ]);
  await writeFile(file('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const name of ['server', 'client']) {
    await openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name === 'server' ? 'localhost' : 'playbook client'}`,
    ]);
    await openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      'san.ext',
    ]);
  }
  return {
    ca: file('ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
  };
}

test('TLS: rediss:// with --cacert works for inspect and backup; an unverified certificate, a missing client certificate and a wrong port each get one line', async (t) => {
  const cases = await faultCases(t, import.meta.url, 'Connections', {
    'tls.ca': 'a TLS server (rediss://) whose certificate a private CA signed, given with --cacert',
    'tls.unverified': 'the same server without --cacert (its certificate cannot be verified)',
    'tls.plain-url': 'a TLS port given a plain redis:// URL',
    'tls.plain-port': 'rediss:// to a plain port',
    'tls.client-cert': 'a server that requires client certificates (tls-auth-clients yes), without one',
  });
  const tlsPort = await freePort();
  await using plain = await startRedis();
  const certs = await makeCertificates(plain.root);
  await using redis = await startRedis({
    config: {
      'tls-port': tlsPort,
      'tls-cert-file': certs.serverCert,
      'tls-key-file': certs.serverKey,
      'tls-ca-cert-file': certs.ca,
      'tls-auth-clients': 'optional',
      appendonly: 'yes',
    },
  });
  await redis.withClient((client) => writeMixedDataset(client, 'A', 5));
  const url = `rediss://127.0.0.1:${tlsPort}`;

  const report = await inspectJson(url, {}, ['--cacert', certs.ca]);
  assert.equal(report.url, url);
  assert.equal(report.dir, redis.dir);
  const made = await runCli(['backup', '--url', url, '--cacert', certs.ca, '--to', join(redis.root, 'backups'), '--json']);
  assert.equal(made.exitCode, 0, made.stderr);
  const manifest = JSON.parse(made.stdout) as { manifest: BackupManifest };
  assert.equal(manifest.manifest.source.port, tlsPort);
  assert.equal(
    (await runCli(['inspect', '--url', `redis://127.0.0.1:${tlsPort}`, '--tls', '--cacert', certs.ca])).exitCode,
    0,
    '--tls is rediss://',
  );
  const server = await answeringServer(redis);
  await cases['tls.ca'].passed('inspect and backup worked, the certificate checked against the CA', 0, server);

  assertOneLineFailure(
    await runCli(['inspect', '--url', url]),
    4,
    /The TLS certificate of rediss:\/\/127\.0\.0\.1:\d+ cannot be verified \(.*\): give the CA that signed it with --cacert FILE/,
  );
  assert.equal((await runCli(['inspect', '--url', url, '--insecure'])).exitCode, 0, '--insecure skips the check when asked');
  await cases['tls.unverified'].passed(
    'refused: the certificate cannot be verified, give its CA with --cacert (or --insecure, which only then skips the check)',
    4,
    server,
  );
  assertOneLineFailure(
    await runCli(['inspect', '--url', `redis://127.0.0.1:${tlsPort}`]),
    5,
    /closed the connection without answering like Redis.*\(a TLS port needs rediss:\/\/ or --tls\)/,
  );
  await cases['tls.plain-url'].passed('one line: the server closed the connection; a TLS port needs rediss:// or --tls', 5, server);
  assertOneLineFailure(
    await runCli(['inspect', '--url', `rediss://127.0.0.1:${plain.port}`, '--cacert', certs.ca]),
    5,
    /did not answer the TLS handshake within \d+ ms: is it a plain port\? use redis:\/\/ without --tls/,
  );
  await cases['tls.plain-port'].passed('one line: no TLS handshake within the timeout, is it a plain port?', 5, server);
  assertOneLineFailure(
    await runCli(['inspect', '--url', `redis://127.0.0.1:${plain.port}`, '--cacert', certs.ca]),
    2,
    /--cacert is a TLS option: use a rediss:\/\/ URL or --tls/,
  );
  assertOneLineFailure(
    await runCli(['inspect', '--url', url, '--cacert', join(redis.root, 'missing.crt')]),
    6,
    /Cannot read --cacert .*missing\.crt: no such file/,
  );

  // A server that requires client certificates.
  await redis.withClient((client) => client.call('CONFIG', 'SET', 'tls-auth-clients', 'yes'));
  assertOneLineFailure(
    await runCli(['inspect', '--url', url, '--cacert', certs.ca]),
    4,
    /refused the TLS connection: it requires a client certificate this one does not have \(--cert FILE --key FILE\)/,
  );
  assert.equal(
    (await runCli(['inspect', '--url', url, '--cacert', certs.ca, '--cert', certs.clientCert, '--key', certs.clientKey])).exitCode,
    0,
  );
  await cases['tls.client-cert'].passed('refused in one line naming --cert and --key; with them it worked', 4, server);
  assertOneLineFailure(
    await runCli(['inspect', '--url', url, '--cacert', certs.ca, '--cert', certs.clientCert]),
    2,
    /--cert and --key go together/,
  );
});

test('a Unix socket and IPv6 [::1] reach the server for inspect and backup', async (t) => {
  const cases = await faultCases(t, import.meta.url, 'Connections', {
    socket: 'a server reached through its Unix socket (--socket)',
    'socket.missing': 'a socket path where no server listens',
    ipv6: 'a server reached on IPv6 [::1]',
  });
  await using server = await startRedis({ alsoBind: ['::1'] });
  const socket = join(server.root, 'redis.sock');
  await server.withClient((client) => writeMixedDataset(client, 'A', 5));
  await server.stop();
  await server.start({ unixsocket: socket, unixsocketperm: 700 });

  const viaSocket = await runCli(['backup', '--socket', socket, '--to', join(server.root, 'backups'), '--json']);
  assert.equal(viaSocket.exitCode, 0, viaSocket.stderr);
  assert.equal((JSON.parse(viaSocket.stdout) as { manifest: BackupManifest }).manifest.source.socket, socket);
  assert.equal((await runCli(['inspect', '--socket', socket])).exitCode, 0);
  assertOneLineFailure(
    await runCli(['inspect', '--socket', join(server.root, 'nothing.sock')]),
    3,
    /Cannot reach unix:.*nothing\.sock: no such socket/,
  );
  assertOneLineFailure(await runCli(['inspect', '--socket', socket, '--tls']), 2, /--socket and TLS do not go together/);
  const name = await answeringServer(server);
  await cases.socket.passed('inspect and backup worked; the manifest records the socket', 0, name);
  await cases['socket.missing'].passed('one line: no such socket, is the server running with unixsocket set to this path?', 3, name);

  const ipv6 = `redis://[::1]:${server.port}`;
  const report = await inspectJson(ipv6);
  assert.equal(report.url, ipv6);
  assert.equal(report.dir, server.dir);
  const viaIpv6 = await runCli(['backup', '--url', ipv6, '--to', join(server.root, 'backups'), '--json']);
  assert.equal(viaIpv6.exitCode, 0, viaIpv6.stderr);
  assert.equal((JSON.parse(viaIpv6.stdout) as { manifest: BackupManifest }).manifest.source.host, '::1');
  await cases.ipv6.passed('inspect and backup worked; the manifest records host ::1', 0, name);
});

test('each command works for an ACL user with exactly the rules its --help names, and without any one of them says which to add', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'acl.least-privilege',
    'Connections',
    'an ACL user with exactly the rules each command names in --help, then with each rule taken away',
  );
  await using redis = await startRedis({ config: { appendonly: 'yes' } });
  await redis.withClient(async (client) => {
    await writeMixedDataset(client, 'A', 5);
    await client.xadd('stream:0', '*', 'field', 'value');
  });
  // One key of each type, so that every size command validate uses is needed.
  const expect = join(redis.root, 'expect.yaml');
  const keys = { 'str:0': 'string', 'hash:0': 'hash', 'list:0': 'list', 'set:0': 'set', 'zset:0': 'zset', 'stream:0': 'stream' };
  await writeFile(
    expect,
    `keys:\n${Object.entries(keys)
      .map(([key, type]) => `  - key: ${key}\n    type: ${type}\n    minSize: 1\n`)
      .join('')}`,
  );
  const argsOf: Record<keyof typeof ACL_RULES, string[]> = {
    inspect: ['inspect'],
    backup: ['backup', '--to', join(redis.root, 'backups')],
    watch: ['watch', '--for', '1'],
    validate: ['validate', '--expect', expect],
  };
  const run = (command: keyof typeof ACL_RULES, rules: string) =>
    redis
      .withClient((client) => client.call('ACL', 'SETUSER', 'operator', 'reset', 'on', '>operator pass', ...rules.split(' ')))
      .then(() => runCli([...argsOf[command], '--url', `redis://operator:${encodeURIComponent('operator pass')}@127.0.0.1:${redis.port}`]));

  const help = await runCli(['backup', '--help']);
  assert.match(help.stdout, new RegExp(`the least rules it needs: ${ACL_RULES.backup.replace(/[|+]/g, '\\$&')}`));
  for (const [command, rules] of Object.entries(ACL_RULES) as [keyof typeof ACL_RULES, string][]) {
    const all = await run(command, rules);
    assert.equal(all.exitCode, 0, `${command} with ${rules}: ${all.stderr}`);
    for (const rule of rules.split(' ')) {
      const without = await run(
        command,
        rules
          .split(' ')
          .filter((other) => other !== rule)
          .join(' '),
      );
      const line = `${without.stderr.trimEnd().split('\n').at(-1) ?? ''}\n`;
      const named = rule.startsWith('%')
        ? /read the keys the command checks: add %R~\*/
        : new RegExp(
            `does not let this user run ${rule.slice(1).replace('|', ' ').toUpperCase()}: add \\${rule.replace('|', '\\|')} to its rules`,
          );
      assertOneLineFailure({ ...without, stdout: '', stderr: line }, 1, named);
    }
  }
  await fault.passed(
    `inspect, backup, watch and validate worked with exactly their rules; without any one rule, one line named the rule to add (${Object.values(ACL_RULES).join(' ').split(' ').length} cases)`,
    1,
    await answeringServer(redis),
  );
});

test('a server whose CONFIG is disabled with rename-command: backup says so in one line', async (t) => {
  const fault = await faultCase(
    t,
    import.meta.url,
    'rename-command',
    'Connections',
    'backup of a server whose CONFIG is disabled (rename-command CONFIG "")',
  );
  await using redis = await startRedis({ config: { 'rename-command': 'CONFIG ""' } });
  const run = await runCli(['backup', '--url', redis.url, '--to', join(redis.root, 'backups')]);
  assertOneLineFailure(run, 1, /The server does not know the command CONFIG: it is renamed or disabled \(rename-command in its config\)/);
  assert.equal(await readFile(join(redis.root, 'backups'), 'utf8').catch(() => 'none'), 'none');
  await fault.passed(
    'one line: the server does not know CONFIG, renamed or disabled with rename-command; nothing written',
    1,
    await answeringServer(redis),
  );
});
