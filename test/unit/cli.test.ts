import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitCodes } from '../../scripts/cli/exit-codes.ts';
import { main } from '../../scripts/cli/main.ts';
import { redact, secretsOf } from '../../scripts/cli/redact.ts';

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env });
  return { code, stdout, stderr };
}

test('--help lists the commands and every documented exit code', async () => {
  const { code, stdout } = await run(['--help']);
  assert.equal(code, 0);
  for (const name of ['inspect', 'backup', 'backups', 'offsite', 'check', 'test-restore', 'restore', 'validate', 'watch'])
    assert.match(stdout, new RegExp(`^ {2}${name} +\\S`, 'm'));
  assert.match(stdout, /^ {2}inspect +Where the data lives/m);
  for (const entry of exitCodes) assert.match(stdout, new RegExp(`^  ${entry.code}  `, 'm'));
});

test('exit codes 0 to 5 are ok, other, usage, unreachable, auth, protocol; every code is documented once', () => {
  assert.deepEqual(
    exitCodes.slice(0, 6).map((entry) => [entry.code, entry.kind]),
    [
      [0, 'ok'],
      [1, 'other'],
      [2, 'usage'],
      [3, 'unreachable'],
      [4, 'auth'],
      [5, 'protocol'],
    ],
  );
  assert.equal(new Set(exitCodes.map((entry) => entry.code)).size, exitCodes.length);
  assert.equal(new Set(exitCodes.map((entry) => entry.kind)).size, exitCodes.length);
});

test('--version prints the package version and, from a checkout, its commit', async () => {
  const { code, stdout } = await run(['--version']);
  assert.equal(code, 0);
  assert.match(stdout, /^\d+\.\d+\.\d+ \(source checkout, commit [0-9a-f]{40}(-dirty)?\)\n$/);
});

test('inspect --help shows its options', async () => {
  const { code, stdout } = await run(['inspect', '--help']);
  assert.equal(code, 0);
  assert.match(stdout, /--url URL/);
  assert.match(stdout, /REDISCLI_AUTH/);
});

test('no command, an unknown command, option, argument or value: one line on stderr and exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['frobnicate'],
      /^redis-playbook: Unknown command "frobnicate" \(commands: inspect, backup, backups, offsite, check, test-restore, restore, rewind, validate, watch; see redis-playbook --help\)\n$/,
    ],
    [['--frobnicate'], /^redis-playbook: Unknown option --frobnicate/],
    [['inspect', '--frobnicate'], /^redis-playbook: Unknown option --frobnicate for inspect \(see redis-playbook inspect --help\)\n$/],
    [['inspect', 'extra'], /^redis-playbook: Unexpected argument "extra" for inspect/],
    [['inspect', '--url'], /^redis-playbook: Option '--url <value>' argument missing/],
    [['inspect', '--timeout=-5'], /^redis-playbook: Invalid --timeout "-5": expected at least 1 millisecond\n$/],
    [['inspect', '--timeout', 'soon'], /^redis-playbook: Invalid --timeout "soon": expected a number of milliseconds\n$/],
  ];
  for (const [argv, expected] of cases) {
    const { code, stdout, stderr } = await run(argv);
    assert.equal(code, 2, argv.join(' '));
    assert.equal(stdout, '');
    assert.match(stderr, expected);
    assert.equal(stderr.trimEnd().split('\n').length, 1, argv.join(' '));
  }
  const bare = await run([]);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /Usage: redis-playbook <command>/);
});

test('error output never shows a password from the URL or REDISCLI_AUTH', async () => {
  const secrets = secretsOf(['inspect', '--url=redis://ops:s%3Ecret@h:1', 'redis://plain@h'], { REDISCLI_AUTH: 'envpass' });
  assert.deepEqual(new Set(secrets), new Set(['s%3Ecret', 's>cret', 'plain', 'envpass']));
  assert.equal(redact('a s>cret and envpass', secrets), 'a *** and ***');
  const { code, stderr } = await run(['inspect', '--url', 'http://ops:hunter2@127.0.0.1']);
  assert.equal(code, 2);
  assert.doesNotMatch(stderr, /hunter2/);
});
