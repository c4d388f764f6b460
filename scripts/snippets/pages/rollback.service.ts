import assert from 'node:assert/strict';
import type { SystemdRedis } from '../../harness/systemd/unit.ts';
import { waitFor } from '../../harness/wait.ts';
import { defineSnippet } from '../schema.ts';
import { seedServerConfig } from './where-is-my-data.ts';
import { waitUntil } from '../shell-wait.ts';

/**
 * Stopping and starting the service: on a Debian or Ubuntu install the service manager is the point
 * (Debian's redis-server unit restarts Redis by itself), so the host flavors run on Debian's packaged
 * Redis under a real systemd (scripts/harness/systemd/unit.ts), and only there.
 */
const page = 'recovery/rollback';

function unitOf(service: SystemdRedis | undefined): SystemdRedis {
  assert.ok(service, 'the block runs under systemd');
  return service;
}

export const rollbackServiceSnippets = [
  defineSnippet({
    id: 'service-stop',
    title: 'Stop the server so that it stays stopped',
    page,
    engines: ['redis-7.0'],
    flavors: {
      host: {
        command: 'sudo systemctl stop redis-server',
        server: false,
        systemd: true,
        async verify(ctx) {
          const unit = unitOf(ctx.service);
          const { exitCode } = await ctx.run();
          assert.equal(exitCode, 0);
          const state = await unit.unit();
          assert.equal(state.ActiveState, 'inactive', 'the unit is stopped');
          assert.equal(await unit.answers(), false, 'Redis no longer answers');
          // Restart=always brings back a Redis that exits on its own, not one systemctl stopped.
          assert.equal((await unit.unit()).NRestarts, state.NRestarts);
          assert.equal(state.Restart, 'always');
          ctx.note(`systemctl show redis-server: ActiveState=${state.ActiveState} SubState=${state.SubState} Restart=${state.Restart}`);
        },
      },
      docker: {
        command: 'docker compose stop {{service}}',
        compose: true,
        server: { config: seedServerConfig },
        async verify(ctx) {
          const { exitCode } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.equal(await ctx.server.isRunning(), false, 'the container is stopped');
        },
      },
    },
  }),
  defineSnippet({
    id: 'service-start',
    title: 'Start the server again',
    page,
    engines: ['redis-7.0'],
    flavors: {
      host: {
        command: 'sudo systemctl start redis-server',
        server: false,
        systemd: true,
        async verify(ctx) {
          const unit = unitOf(ctx.service);
          // The state the page leaves it in: stopped through systemd.
          assert.equal((await unit.exec(['systemctl', 'stop', 'redis-server'])).exitCode, 0);
          assert.equal(await unit.answers(), false);
          const { exitCode } = await ctx.run();
          assert.equal(exitCode, 0);
          const state = await unit.unit();
          assert.equal(state.ActiveState, 'active', 'the unit runs');
          // Type=notify: systemctl start returns once Redis said it is ready.
          assert.equal(await unit.answers(), true, 'Redis answers as soon as systemctl start returns');
          ctx.note(`systemctl show redis-server: ActiveState=${state.ActiveState} SubState=${state.SubState}`);
        },
      },
      docker: {
        command: 'docker compose start {{service}}',
        compose: true,
        server: { config: seedServerConfig },
        async setup(server) {
          await server.stop();
        },
        async verify(ctx) {
          const server = ctx.server;
          const { exitCode } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.equal(await server.isRunning(), true, 'the container runs');
          await waitFor(
            async () => {
              await server.withClient((client) => client.ping());
              return true;
            },
            { what: 'Redis in the container', timeoutMs: 30_000 },
          );
        },
      },
    },
  }),
  defineSnippet({
    id: 'service-shutdown-comes-back',
    title: "A SHUTDOWN is not a stop under Debian's unit",
    page,
    engines: ['redis-7.0'],
    flavors: {
      host: {
        command: [
          'redis-cli -h {{host}} -p {{port}} SHUTDOWN',
          '# systemd starts it again (Restart=always): wait until it answers',
          waitUntil('redis-cli -h {{host}} -p {{port}} PING 2>/dev/null | grep -q PONG', { interval: 0.2 }),
          'systemctl show redis-server -p ActiveState -p NRestarts',
        ].join('\n'),
        server: false,
        systemd: true,
        timeoutMs: 90_000,
        async verify(ctx) {
          const unit = unitOf(ctx.service);
          const before = Number((await unit.unit()).NRestarts);
          const { exitCode, stdout } = await ctx.run();
          assert.equal(exitCode, 0);
          assert.match(stdout, /^ActiveState=active$/m);
          assert.equal(Number(/^NRestarts=(\d+)$/m.exec(stdout)?.[1]), before + 1, 'systemd restarted it once');
          await waitFor(() => unit.answers(), { what: 'Redis back under its unit', timeoutMs: 30_000 });
        },
      },
    },
  }),
];
