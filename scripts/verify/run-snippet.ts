import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startRedis, type DisposableRedis } from '../harness/redis-server.ts';
import { hostRedis, type Engine } from '../harness/engine.ts';
import { TEMP_PREFIX } from '../harness/leftovers.ts';
import { fillCommand, placeholders, placeholdersIn } from '../snippets/placeholders.ts';
import type { CommandResult, Flavor, FlavorId, Snippet, VerifyContext } from '../snippets/schema.ts';
import type { Result } from './report.ts';

/** The version of an engine's server, from INFO server when a server runs, else from `--version`. */
async function serverVersion(engine: Engine, server: DisposableRedis | undefined): Promise<string> {
  if (server?.running) {
    const fields = (await server.info('server')).server ?? {};
    return fields.valkey_version ?? fields.redis_version ?? 'unknown';
  }
  const { stdout } = await execa(engine.server, ['--version'], { reject: false });
  return /v=(\S+)/.exec(stdout)?.[1] ?? 'unknown';
}

/** Placeholder values for a disposable server: its address and data dir. */
function serverValues(server: DisposableRedis | undefined): Record<string, string> {
  return server ? { host: server.host, port: String(server.port), dataDir: server.dir } : {};
}

/**
 * Turns what a verification run printed into what the page shows: the password redacted, and each
 * value filled for the disposable server (port, temp paths) shown as the documented default again.
 */
export function presentOutput(text: string, values: Record<string, string>, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('********');
  const pairs = Object.entries(values)
    .filter(([name, value]) => name in placeholders && value !== placeholders[name as keyof typeof placeholders].default)
    .map(([name, value]) => [value, placeholders[name as keyof typeof placeholders].default] as const)
    .sort((a, b) => b[0].length - a[0].length);
  for (const [actual, shown] of pairs) {
    if (/^\d+$/.test(actual)) out = out.replace(new RegExp(`(?<!\\d)${actual}(?!\\d)`, 'g'), shown);
    else out = out.split(actual).join(shown);
  }
  return out;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one flavor of a snippet against a fresh disposable server and reports the outcome. Never throws. */
export async function runSnippet(snippet: Snippet, flavorId: FlavorId, flavor: Flavor, engine: Engine = hostRedis): Promise<Result> {
  const started = Date.now();
  const verifiedAt = new Date().toISOString();
  const recorded: string[] = [];
  let server: DisposableRedis | undefined;
  let scratch: string | undefined;
  let version = 'unknown';
  let values: Record<string, string> = {};
  const secrets: string[] = [];
  const base = { id: snippet.id, flavor: flavorId, page: snippet.page, engine: engine.id.split('-')[0] ?? engine.id };
  try {
    scratch = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}verify-`));
    if (flavor.server !== false) {
      server = await startRedis(flavor.server, engine);
      if (server.password) secrets.push(server.password);
      await flavor.setup?.(server, scratch);
    }
    version = await serverVersion(engine, server);
    values = { ...serverValues(server), ...(await flavor.values?.({ server, scratch })) };
    for (const name of placeholdersIn(flavor.command)) {
      if (!(name in values)) throw new Error(`No value for placeholder {{${name}}} in this verification`);
    }
    const command = fillCommand(flavor.command, values);
    const runDir = scratch;
    const ctx: VerifyContext = {
      server,
      scratch: runDir,
      values,
      command,
      async run(options = {}): Promise<CommandResult> {
        const env = { ...server?.env, ...options.env };
        if (env.REDISCLI_AUTH) secrets.push(env.REDISCLI_AUTH);
        const result = await execa('bash', ['--noprofile', '--norc', '-c', command], {
          cwd: runDir,
          env,
          input: options.input ?? '',
          all: true,
          reject: false,
          timeout: options.timeoutMs ?? flavor.timeoutMs,
        });
        recorded.push(result.all ?? '');
        return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, all: result.all ?? '' };
      },
      note(text: string) {
        recorded.push(text);
      },
    };
    await withTimeout(flavor.verify(ctx), flavor.timeoutMs, `Verification of ${snippet.id} (${flavorId})`);
    return {
      ...base,
      status: 'passed',
      version,
      durationMs: Date.now() - started,
      verifiedAt,
      output: presentOutput(recorded.join('\n').trimEnd(), values, secrets),
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const log = server ? await server.logTail(10) : '';
    return {
      ...base,
      status: 'failed',
      version,
      durationMs: Date.now() - started,
      verifiedAt,
      output: presentOutput(recorded.join('\n').trimEnd(), values, secrets),
      error: presentOutput(log ? `${message}\n--- server log (last lines) ---\n${log}` : message, values, secrets),
    };
  } finally {
    await server?.dispose();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
