import { z } from 'zod';

/**
 * `--metrics-file PATH` (backup, offsite push): afterwards, the freshness gauge for node_exporter's
 * textfile collector. `when` starts the help ("Afterwards"), `dir` is the label's value as shown and
 * `value` says what the gauge holds (its lines).
 */
export function metricsFileOption(when: string, dir: string, value: string) {
  const help = [
    `${when}, write for node_exporter's textfile collector (atomically)`,
    `redis_playbook_backup_last_verified_timestamp_seconds{dir="${dir}"}`,
    value,
  ];
  return z
    .string()
    .min(1)
    .optional()
    .meta({ value: 'PATH', help: help.join('\n') });
}
