import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { defineCommand, helpEntry, optionLabel, optionsOf } from '../../scripts/cli/command.ts';
import { RestoreJsonSchema } from '../../scripts/cli/json-schemas.ts';
import { commands, main } from '../../scripts/cli/main.ts';
import { cliReferencePage } from '../../scripts/cli/reference-page.ts';

test('each command parses, validates and documents exactly the options of its schema', () => {
  for (const command of commands) {
    const options = optionsOf(command.schema);
    const named = options.filter((option) => !option.meta.positional);
    assert.deepEqual(Object.keys(command.options).sort(), named.map((option) => option.name).sort(), command.name);
    assert.deepEqual(
      command.positionals ?? [],
      options.filter((option) => option.meta.positional).map((option) => option.name),
      command.name,
    );
    for (const option of named) {
      assert.equal(command.options[option.name]?.type, option.flag ? 'boolean' : 'string', `${command.name} --${option.name}`);
      assert.match(
        command.help,
        new RegExp(`^  ${optionLabel(option).replace(/[|]/g, '\\|')}( |$)`, 'm'),
        `${command.name} --help lists --${option.name}`,
      );
    }
  }
});

test('an option is one schema field: the flag, the value, the alias and the help come from its meta', async () => {
  let seen: unknown;
  const command = defineCommand({
    name: 'demo',
    summary: 'A demo',
    usage: 'Usage: demo',
    description: 'Does nothing.',
    options: z.object({
      count: z.coerce.number({ error: 'expected a number' }).int().default(3).meta({ value: 'N', short: 'c', help: 'How many\nat most' }),
      'a-very-long-option-name': z.string().optional().meta({ value: 'SOMETHING', help: 'Long' }),
      quiet: z.boolean().default(false).meta({ help: 'Say less' }),
    }),
    json: z.object({}),
    async run(options) {
      seen = options;
      return 0;
    },
  });
  assert.deepEqual(command.options, {
    count: { type: 'string', short: 'c' },
    'a-very-long-option-name': { type: 'string' },
    quiet: { type: 'boolean' },
  });
  assert.equal(
    command.help,
    `Usage: demo

Does nothing.

Options:
  -c, --count N              How many
                             at most
  --a-very-long-option-name SOMETHING
                             Long
  --quiet                    Say less
  -h, --help                 Show this help`,
  );
  assert.equal(await command.run({ count: '7', quiet: true }, { stdout: () => undefined, stderr: () => undefined, env: {} }), 0);
  assert.deepEqual(seen, { count: 7, quiet: true });
  await assert.rejects(
    command.run({ count: 'x' }, { stdout: () => undefined, stderr: () => undefined, env: {} }),
    /Invalid --count "x": expected a number/,
  );
  assert.equal(helpEntry('--x', 'y'), '  --x                        y');
});

test('an option without help in its meta is refused when the command is declared', () => {
  assert.throws(
    () =>
      defineCommand({
        name: 'bad',
        summary: '',
        usage: '',
        description: '',
        options: z.object({ x: z.string() }),
        json: z.object({}),
        run: async () => 0,
      }),
    /Option --x has no valid \.meta\(\{ help \}\)/,
  );
});

test("each command's --json schema converts to a JSON Schema", () => {
  for (const command of commands) {
    // One object, or (backup, check, test-restore, restore) one of several objects: a server's or a cluster's.
    const schema = z.toJSONSchema(command.json, { io: 'output' }) as { type?: string; anyOf?: { type?: string }[] };
    const types = schema.anyOf ? schema.anyOf.map((alternative) => alternative.type) : [schema.type];
    assert.deepEqual([...new Set(types)], ['object'], command.name);
  }
});

test('restore --json has one shape: container is null on a data dir, a name with a container', () => {
  const common = {
    backup: '/b/2026-12-05T07-30-00Z',
    dataDir: '/var/lib/redis',
    appendonly: true,
    installed: ['dump.rdb'],
    movedAside: null,
    moved: [],
  };
  assert.ok(RestoreJsonSchema.safeParse({ ...common, container: null }).success);
  assert.ok(RestoreJsonSchema.safeParse({ ...common, container: 'cache' }).success);
  assert.equal(RestoreJsonSchema.safeParse(common).success, false, 'the key is always there');
});

test('the CLI reference page lists every command, option and exit code', async () => {
  const page = cliReferencePage();
  for (const command of commands) {
    assert.match(page, new RegExp(`^## ${command.name}$`, 'm'));
    for (const option of optionsOf(command.schema))
      if (!option.meta.positional)
        assert.ok(page.includes(`| \`${optionLabel(option).replace(/\|/g, '\\|')}\` |`), `${command.name} --${option.name}`);
  }
  assert.match(page, /^\| 11 \| `cluster` \|/m);
  assert.match(page, /^\| 12 \| `undo` \|/m);
  assert.match(page, /^\| `REDISCLI_AUTH` \|/m);
  // Help still works for every command after the conversion.
  for (const command of commands) {
    let out = '';
    assert.equal(await main([command.name, '--help'], { stdout: (text) => (out += text), stderr: () => undefined, env: {} }), 0);
    assert.equal(out, `${command.help}\n`);
  }
});
