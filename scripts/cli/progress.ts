import type { BackupProgress } from '../procedures/backup.ts';
import type { CliIo } from './command.ts';

/**
 * Progress lines on stderr for long work (stdout stays for the result, `--json` included): a line
 * when the phase changes, and at most one a second while a save runs.
 */
export function progressPrinter(io: CliIo): (event: BackupProgress) => void {
  let lastPhase = '';
  let lastLine = 0;
  return (event) => {
    const now = Date.now();
    const step = 'file' in event ? `${event.phase} ${event.file}` : event.phase;
    if (step === lastPhase && now - lastLine < 1000) return;
    lastPhase = step;
    lastLine = now;
    switch (event.phase) {
      case 'waiting-for-running-save':
        io.stderr(`waiting for a save that was already running to finish (${(event.elapsedMs / 1000).toFixed(0)} s)\n`);
        break;
      case 'waiting-for-aof-rewrite':
        io.stderr(`waiting for the AOF rewrite to finish before the save starts (${(event.elapsedMs / 1000).toFixed(0)} s)\n`);
        break;
      case 'saving': {
        const { keysProcessed: done, keysTotal: total } = event;
        const share = done !== undefined && total ? ` ${Math.floor((100 * done) / total)}% (${done} of ${total} keys)` : '';
        io.stderr(`saving:${share} ${(event.elapsedMs / 1000).toFixed(0)} s\n`);
        break;
      }
      case 'copying':
        io.stderr(`copying ${event.file}\n`);
        break;
      case 'checking':
        io.stderr(`checking ${event.file}\n`);
        break;
      case 'pruned':
        io.stderr(`removed old backup ${event.path}\n`);
        break;
    }
  };
}
