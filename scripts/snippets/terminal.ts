import { randomBytes } from 'node:crypto';
import { outsideCancel } from '../core/cancel.ts';
import { exec } from './exec.ts';
import { waitFor } from '../harness/wait.ts';

/** One exchange of an interactive session: what the reader types, then what the screen shows. */
export interface TerminalStep {
  /** A line typed and sent with Enter. */
  type: string;
  /** The screen, after the step, matches this (polled until it does). */
  expect: RegExp;
}

export interface TerminalSession {
  /** The screen (and its scrollback) when the session ended, trailing blanks trimmed. */
  screen: string;
  /** Whether the command had exited by itself when the steps were done. */
  exited: boolean;
}

/**
 * Runs a command that needs a terminal (`docker exec -it …`, an interactive client) in a detached
 * tmux session on a private socket, waits for `ready` on the screen, types each step's line and
 * waits for its `expect`, then waits for the command to exit. The tmux server is killed at the end,
 * whatever happened.
 */
export async function runInTerminal(
  command: string,
  options: { cwd: string; env: Record<string, string>; ready: RegExp; steps: TerminalStep[]; timeoutMs?: number },
): Promise<TerminalSession> {
  const socket = `redis-playbook-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) => exec('tmux', ['-L', socket, ...args], { cwd: options.cwd, env: options.env, reject: false });
  const timeoutMs = options.timeoutMs ?? 30_000;
  let screen = '';
  const capture = async () => {
    const result = await tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'session');
    // Once the command exits, the session (and the pane) is gone: keep the last screen seen.
    if (result.exitCode === 0)
      screen = result.stdout
        .replace(/^Pane is dead.*$/m, '')
        .replace(/^(\s*\n)+/, '')
        .replace(/\s+$/, '');
    return result.exitCode === 0;
  };
  try {
    // No config file; remain-on-exit keeps the pane after the command ends, so its last screen can be read.
    const started = await exec(
      'tmux',
      [
        '-L',
        socket,
        '-f',
        '/dev/null',
        'set-option',
        '-g',
        'remain-on-exit',
        'on',
        ';',
        'new-session',
        '-d',
        '-s',
        'session',
        '-x',
        '160',
        '-y',
        '40',
        'bash',
        '--noprofile',
        '--norc',
        '-c',
        command,
      ],
      { cwd: options.cwd, env: options.env, reject: false },
    );
    if (started.exitCode !== 0) throw new Error(`tmux could not start the session: ${started.stderr.trim()}`);
    const until = async (pattern: RegExp, what: string) => {
      try {
        await waitFor(async () => (await capture()) && pattern.test(screen), { what, timeoutMs });
      } catch (error) {
        throw new Error(`${(error as Error).message}; the screen showed:\n${screen || '(nothing)'}`, { cause: error });
      }
    };
    await until(options.ready, `the prompt ${options.ready}`);
    for (const step of options.steps) {
      await tmux('send-keys', '-t', 'session', '-l', step.type);
      await tmux('send-keys', '-t', 'session', 'Enter');
      await until(step.expect, `${step.expect} after typing "${step.type}"`);
    }
    let exited = false;
    await waitFor(
      async () => {
        const dead = await tmux('display-message', '-p', '-t', 'session', '#{pane_dead}');
        exited = dead.exitCode !== 0 || dead.stdout.trim() === '1';
        return exited;
      },
      { what: 'the command to exit', timeoutMs },
    ).catch(() => undefined);
    await capture();
    return { screen, exited };
  } finally {
    // Also when the verification's time is up: the tmux server outlives the clients the bound kills.
    await outsideCancel(() => tmux('kill-server'));
  }
}
