import { readdirSync, readlinkSync } from 'node:fs';
import { sep } from 'node:path';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Things alive in this process that must not outlive it (servers, containers, temp dirs): whatever is
 * still in the set is disposed synchronously on exit, and on SIGINT, SIGTERM or SIGHUP (the signal is
 * then raised again, so the process still ends as it was asked to). The hooks are installed on the
 * first {@link add}, not on import, so a module that only imports this changes no signal handling.
 */
export class DisposedAtExit<T> {
  readonly #live = new Set<T>();
  readonly #dispose: (item: T) => void;
  #installed = false;

  /** `dispose` must be synchronous: nothing asynchronous runs once the process exits. */
  constructor(dispose: (item: T) => void) {
    this.#dispose = dispose;
  }

  add(item: T): void {
    this.#install();
    this.#live.add(item);
  }

  delete(item: T): void {
    this.#live.delete(item);
  }

  #disposeAll(): void {
    for (const item of this.#live) {
      try {
        this.#dispose(item);
      } catch {
        // The others are disposed all the same; the leftover check names what stayed.
      }
    }
    this.#live.clear();
  }

  #install(): void {
    if (this.#installed) return;
    this.#installed = true;
    process.on('exit', () => {
      this.#disposeAll();
    });
    for (const signal of SIGNALS) {
      process.once(signal, () => {
        this.#disposeAll();
        process.kill(process.pid, signal);
      });
    }
  }
}

/**
 * Kills (SIGKILL) every process working in `dir` or below it: for the exit hook, before a temp dir
 * is removed, so that what a page's command started there by itself (a redis-server a script
 * runs as the `redis` user chdirs into its data dir) does not outlive the run. Synchronous; never throws.
 */
export function killProcessesIn(dir: string): void {
  const prefix = dir.endsWith(sep) ? dir : `${dir}${sep}`;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return;
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      // A removed dir reads as "PATH (deleted)".
      const path = cwd.replace(/ \(deleted\)$/, '');
      if (path === dir || path.startsWith(prefix)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
}
