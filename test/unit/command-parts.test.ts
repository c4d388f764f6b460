import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { commandParts, fillCommand, placeholderNames } from '../../scripts/snippets/placeholders.ts';
import { flavorsOf, registry } from '../../scripts/snippets/registry.ts';
import { decodeParts, encodeParts, partTexts } from '../../src/lib/command-parts.ts';

/** Values a reader might type: dashes, dots, spaces, a quote, shell metacharacters. */
const tricky = ['my-app.redis 2', '/srv/redis data/v7.0', "/var/log/o'brien.log", 'cache-primary', '$HOME/x;y', ' lead'];

describe("the site's command parts", () => {
  it('render every registry command exactly as fillCommand does, for defaults and for custom values', () => {
    for (const snippet of registry.values()) {
      for (const [flavor, { command }] of flavorsOf(snippet)) {
        const parts = decodeParts(encodeParts(commandParts(command, {}, flavor)));
        assert.equal(partTexts(parts, {}).join(''), fillCommand(command, {}, flavor), `${snippet.id} (${flavor}) with defaults`);
        for (const value of tricky) {
          const values = Object.fromEntries(placeholderNames.map((name) => [name, `${value}-${name}`]));
          assert.equal(
            partTexts(parts, values).join(''),
            fillCommand(command, values, flavor),
            `${snippet.id} (${flavor}) with ${JSON.stringify(value)}`,
          );
        }
      }
    }
  });

  it('keep the documented default where a value is missing or empty', () => {
    const parts = decodeParts(encodeParts(commandParts('docker exec {{container}} redis-cli -p {{port}}', {}, 'docker')));
    assert.deepEqual(partTexts(parts, { container: 'my app', port: '' }), ['docker exec ', "'my app'", ' redis-cli -p ', '6379']);
  });

  it('refuse data that is not a list of parts', () => {
    assert.throws(() => decodeParts('{"a":1}'), /Not a command's parts/);
    assert.throws(() => decodeParts('[["a","b","c"]]'), /Not a command's parts/);
  });
});
