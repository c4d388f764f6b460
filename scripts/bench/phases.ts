import type { BackupProgress } from '../procedures/backup.ts';

/** Records when a backup's progress events first happened (`copying dump.rdb`, `checking dump.rdb`…). */
export function phaseClock() {
  const timestamps = new Map<string, number>();
  const onProgress = (event: BackupProgress) => {
    const key = event.phase === 'copying' || event.phase === 'checking' ? `${event.phase} ${event.file}` : event.phase;
    if (!timestamps.has(key)) timestamps.set(key, performance.now());
  };
  return { timestamps, onProgress };
}

/** Seconds between the backup's progress events: the save, each copy, each check, and the rest. */
export function phasesOf(timestamps: Map<string, number>, started: number, ended: number): Record<string, number> {
  const marks = [...timestamps.entries()].filter(([key]) => key !== 'saving').sort((a, b) => a[1] - b[1]);
  const phases: Record<string, number> = {};
  let previous = { name: 'save', at: started };
  for (const [name, at] of marks) {
    phases[previous.name] = (at - previous.at) / 1000;
    previous = { name, at };
  }
  phases[previous.name] = (ended - previous.at) / 1000;
  return phases;
}
