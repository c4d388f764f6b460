/**
 * Named steps of the procedures where a fault test stops the CLI to kill it there: with
 * `REDIS_PLAYBOOK_STOP_AT=<name>` in its environment, the process stops itself (SIGSTOP) on reaching
 * that step, and the test sends SIGKILL. Without the variable this does nothing.
 */
export function stopPoint(name: string): void {
  if (process.env.REDIS_PLAYBOOK_STOP_AT === name) process.kill(process.pid, 'SIGSTOP');
}

/** Inside a throwaway container: the file that says where the script waits, and the FIFO that would let it go on. */
export const SHELL_STOPPED_FILE = '/tmp/redis-playbook-stopped-at';

/**
 * `stop_point NAME` for the shell scripts the CLI runs in throwaway containers. There `sh` is PID 1 of
 * its namespace, which cannot stop itself with SIGSTOP: on reaching the step it writes the step's name
 * into {@link SHELL_STOPPED_FILE} and waits on a FIFO, so that a test can see it there (`docker exec …
 * cat`) and kill the container (`docker kill`) at that very step. Without the variable it does nothing.
 */
export const SHELL_STOP_POINT = `stop_point() {
  [ "\${REDIS_PLAYBOOK_STOP_AT:-}" = "$1" ] || return 0
  mkfifo /tmp/redis-playbook-go && echo "$1" > ${SHELL_STOPPED_FILE} && read -r _ < /tmp/redis-playbook-go
}`;

/** `docker run` arguments passing the stop point on to a throwaway container: none unless one is asked for. */
export function stopPointDockerArgs(): string[] {
  return process.env.REDIS_PLAYBOOK_STOP_AT ? ['--env', 'REDIS_PLAYBOOK_STOP_AT'] : [];
}
