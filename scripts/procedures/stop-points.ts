/**
 * Named steps of the procedures where a fault test stops the CLI to kill it there: with
 * `REDIS_PLAYBOOK_STOP_AT=<name>` in its environment, the process stops itself (SIGSTOP) on reaching
 * that step, and the test sends SIGKILL. Without the variable this does nothing.
 */
export function stopPoint(name: string): void {
  if (process.env.REDIS_PLAYBOOK_STOP_AT === name) process.kill(process.pid, 'SIGSTOP');
}
