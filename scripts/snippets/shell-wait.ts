/**
 * Waits in the shell a page shows, always bounded: a reader's copy has no verify timeout around it,
 * so a wait that cannot end (a server that never answers, a save that failed) must give up by itself
 * instead of hanging their terminal. Each helper returns one line of POSIX shell:
 * `for try in $(seq N); do …; sleep S; done`, with the condition in braces so that its own `&&` and
 * `||` keep their meaning. It never `exit`s: pasted into an interactive shell that would close it;
 * what follows the wait shows whether the state came.
 */

/** How long a wait on the pages lasts at most, and how often it looks. */
export interface WaitBound {
  /** Seconds before it gives up (default 60). */
  seconds?: number;
  /** Seconds between two looks (default 0.1). */
  interval?: number;
}

function tries({ seconds = 60, interval = 0.1 }: WaitBound): { count: number; interval: number } {
  if (!(seconds > 0 && interval > 0)) throw new Error(`a bounded wait needs positive seconds and interval (got ${seconds}, ${interval})`);
  return { count: Math.ceil(seconds / interval), interval };
}

/** Looks until `condition` (a shell command list) succeeds, for `seconds` at most. */
export function waitUntil(condition: string, bound: WaitBound = {}): string {
  const { count, interval } = tries(bound);
  return `for try in $(seq ${count}); do { ${condition}; } && break; sleep ${interval}; done`;
}

/** Looks while `condition` succeeds (until it fails), for `seconds` at most. */
export function waitWhile(condition: string, bound: WaitBound = {}): string {
  const { count, interval } = tries(bound);
  return `for try in $(seq ${count}); do { ${condition}; } || break; sleep ${interval}; done`;
}

/** Runs `step` until `condition` succeeds, at most `times` times (a drill that writes until the server reports something). */
export function repeatUntil(condition: string, step: string, times: number): string {
  if (!(Number.isInteger(times) && times > 0)) throw new Error(`repeatUntil needs a positive whole number of times (got ${times})`);
  return `for try in $(seq ${times}); do { ${condition}; } && break; ${step}; done`;
}
