import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { identityFromInfo, identityFromVersionLine, identityMismatch } from '../../scripts/verify/identity.ts';
import { identityProblems } from '../../scripts/verify/run-snippet.ts';

// INFO server lines as Redis 7.0.15 and Valkey 8.1.1 print them (measured on this machine's engines).
const redis70 = { redis_version: '7.0.15', redis_git_sha1: '00000000', redis_build_id: 'ae4d7c971a948f0', redis_mode: 'standalone' };
const valkey81 = {
  redis_version: '7.2.4',
  server_name: 'valkey',
  valkey_version: '8.1.1',
  redis_build_id: '384b3c0d511f998a',
  redis_git_sha1: '00000000',
};
const valkeyEngine = { id: 'valkey-8.1', product: 'valkey' as const, version: '8.1.1' };
const redisEngine = { id: 'redis-7.0', product: 'redis' as const, version: '7.0.15' };

describe('server identity', () => {
  it('reads the product, its own version and the build id from INFO server', () => {
    assert.deepEqual(identityFromInfo(redis70), {
      product: 'redis',
      version: '7.0.15',
      buildId: 'ae4d7c971a948f0',
      source: 'info',
      line: 'redis_version:7.0.15 redis_build_id:ae4d7c971a948f0 redis_git_sha1:00000000',
    });
    const valkey = identityFromInfo(valkey81);
    assert.equal(valkey?.product, 'valkey');
    assert.equal(valkey.version, '8.1.1', "Valkey's own version, not its redis_version compatibility value 7.2.4");
  });

  it('reads a --version line', () => {
    const identity = identityFromVersionLine('Valkey server v=8.1.1 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=384b3c0d511f998a');
    assert.deepEqual(
      { ...identity, line: undefined },
      { product: 'valkey', version: '8.1.1', buildId: '384b3c0d511f998a', source: 'version-line', line: undefined },
    );
    assert.equal(identityFromVersionLine('bash: redis-server: command not found'), undefined);
  });
});

describe('verify fails a result whose answering server is not its engine', () => {
  it('accepts the engine it is filed under', () => {
    assert.equal(identityMismatch(valkeyEngine, identityFromInfo(valkey81)!), undefined);
    assert.deepEqual(identityProblems(valkeyEngine, [{ identity: identityFromInfo(valkey81)!, engine: valkeyEngine }], false), []);
  });

  it('refuses the host Redis 7.0 answering for Valkey 8.1 (the MISCONF blocks before the fix)', () => {
    const problems = identityProblems(valkeyEngine, [{ identity: identityFromInfo(redis70)!, engine: valkeyEngine }], false);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] as string,
      /answered by Redis 7\.0\.15 .*not by the engine this result is filed under \(valkey-8\.1, Valkey 8\.1\.1\)/,
    );
  });

  it('refuses another patch release than the catalog pins, and the right series of the wrong product', () => {
    assert.match(identityMismatch(valkeyEngine, { ...identityFromInfo(valkey81)!, version: '8.1.2' }) ?? '', /answered by Valkey 8\.1\.2/);
    assert.match(
      identityMismatch({ id: 'redis-8.1', product: 'redis' }, { ...identityFromInfo(valkey81)! }) ?? '',
      /answered by Valkey 8\.1\.1/,
    );
  });

  it('refuses a result with no identity of its engine, and another engine unless the block is crossEngine', () => {
    assert.deepEqual(identityProblems(valkeyEngine, [], false), ['no identity of a valkey-8.1 server was recorded']);
    const both = [
      { identity: identityFromInfo(valkey81)!, engine: valkeyEngine },
      { identity: identityFromInfo(redis70)!, engine: redisEngine },
    ];
    assert.deepEqual(identityProblems(valkeyEngine, both, true), []);
    assert.match(identityProblems(valkeyEngine, both, false).join(), /reached redis-7\.0 although the block is not marked crossEngine/);
    // A crossEngine block's other servers must still be the engines they are recorded as.
    const wrong = [both[0]!, { identity: identityFromInfo(valkey81)!, engine: redisEngine }];
    assert.match(identityProblems(valkeyEngine, wrong, true).join(), /answered by Valkey 8\.1\.1 .*\(redis-7\.0, Redis 7\.0\.15\)/);
  });
});

describe("no scenario reaches a server program through the verify process's PATH", () => {
  it('scripts/snippets runs redis-*/valkey-* programs only through the engine (ctx.engine, server.engine)', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const root = join(import.meta.dirname, '..', '..', 'scripts', 'snippets');
    const files = (await readdir(root, { recursive: true })).filter((name) => name.endsWith('.ts'));
    // A program named in-process (execa, spawn, runuser, `command -v` in a host shell) would be the
    // verify process's PATH's: the host's Redis 7.0 whatever engine is under test.
    const patterns = [
      /\b(execa|spawn|spawnSync|execFile|execFileSync|runTool|runToolOk)\(\s*['"`](redis|valkey)-/,
      /\bexeca\(.*command -v (redis|valkey)-/,
      /['"]runuser['"].*['"](redis|valkey)-(server|cli)['"]/,
      // The host's engine as a default or a fallback: a scenario uses the engine under test.
      /\bhostRedis\b/,
    ];
    const found: string[] = [];
    for (const file of files) {
      const lines = (await readFile(join(root, file), 'utf8')).split('\n');
      lines.forEach((line, index) => {
        if (patterns.some((pattern) => pattern.test(line))) found.push(`scripts/snippets/${file}:${index + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(found, []);
  });
});
