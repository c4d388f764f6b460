import { z } from 'zod';

/** The speed goal of issue 20: the playbook's way may take at most 5 % longer than the raw commands. */
export const TARGET_RATIO = 1.05;

/** One compared operation: the raw commands against the playbook's procedure, round by round. */
export const ComparisonSchema = z.object({
  /** What is timed (`backup`, `restore+start`, with ` (appendonly yes)` for the AOF server). */
  name: z.string(),
  /** `appendonly` of the server backed up and of the one restored. */
  appendonly: z.boolean(),
  /** What the raw side does, in words. */
  raw: z.string(),
  /** What the playbook side does, in words. */
  playbook: z.string(),
  /** Seconds of each timed raw round, in the order run. */
  rawSeconds: z.array(z.number()),
  /** Seconds of each timed playbook round, in the order run. */
  playbookSeconds: z.array(z.number()),
  /** Median of `rawSeconds`. */
  rawMedian: z.number(),
  /** Median of `playbookSeconds`. */
  playbookMedian: z.number(),
  /** `playbookMedian / rawMedian`. */
  ratio: z.number(),
  /** The ratio this comparison may reach, when it is not {@link TARGET_RATIO} (the cluster comparisons). */
  target: z.number().optional(),
  /** Whether `ratio` is at most its target. */
  withinTarget: z.boolean(),
  /** Where the playbook's time went, per round (phase name → seconds), when the procedure reports phases. */
  playbookPhases: z.array(z.record(z.string(), z.number())).default([]),
  /** Where the raw side's time went, per round (step → seconds), when it reports its steps. */
  rawPhases: z.array(z.record(z.string(), z.number())).default([]),
});
export type Comparison = z.infer<typeof ComparisonSchema>;

/** What `npm run bench -- --json` prints. */
export const BenchReportSchema = z.object({
  /** The dataset every round works on. */
  dataset: z.object({
    /** Keys written by `DEBUG POPULATE`. */
    keys: z.number().int(),
    /** Bytes of each value. */
    valueSize: z.number().int(),
    /** Size of the RDB snapshot, in bytes. */
    rdbBytes: z.number().int(),
    /** Keys of `valueSize` bytes in the cluster comparisons (absent when they were not run). */
    clusterKeys: z.number().int().optional(),
  }),
  /** The machine the rounds ran on: a busy one (load above its cores) makes every ratio noisy. */
  machine: z.object({
    /** Logical CPUs. */
    cpus: z.number().int(),
    /** 1-minute load average when the rounds began and when they ended. */
    loadAverage: z.object({ start: z.number(), end: z.number() }),
  }),
  /** Timed rounds of each side (after the untimed warm-up rounds). */
  rounds: z.number().int(),
  /** Untimed rounds of each side run first, so that both meet the same warm page cache and memory. */
  warmupRounds: z.number().int(),
  /** The speed goal for every ratio. */
  targetRatio: z.number(),
  comparisons: z.array(ComparisonSchema),
});
export type BenchReport = z.infer<typeof BenchReportSchema>;

/** Median of a non-empty list (the mean of the two middle values for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Builds a comparison from the timed rounds of both sides. */
export function compare(
  fields: Pick<Comparison, 'name' | 'appendonly' | 'raw' | 'playbook' | 'rawSeconds' | 'playbookSeconds'> & {
    playbookPhases?: Comparison['playbookPhases'];
    rawPhases?: Comparison['rawPhases'];
    target?: number;
  },
): Comparison {
  const rawMedian = median(fields.rawSeconds);
  const playbookMedian = median(fields.playbookSeconds);
  const ratio = playbookMedian / rawMedian;
  return ComparisonSchema.parse({ ...fields, rawMedian, playbookMedian, ratio, withinTarget: ratio <= (fields.target ?? TARGET_RATIO) });
}

const GiB = 1024 ** 3;

/** `1,115,123,456 bytes (1.04 GiB)`. */
export function formatBytes(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} bytes (${(bytes / GiB).toFixed(2)} GiB)`;
}

/** The human-readable report: dataset, one table row per side and round, medians, ratios, and the verdict line. */
export function formatReport(report: BenchReport): string {
  const { dataset } = report;
  const out: string[] = [
    // Absent when only the cluster comparisons ran (--cluster-only).
    ...(dataset.rdbBytes === 0
      ? []
      : [
          `Dataset: ${dataset.keys.toLocaleString('en-US')} keys × ${dataset.valueSize} B values (DEBUG POPULATE) → RDB ${formatBytes(dataset.rdbBytes)}`,
        ]),
    `Machine: ${report.machine.cpus} CPUs, load average ${report.machine.loadAverage.start.toFixed(1)} at the start, ${report.machine.loadAverage.end.toFixed(1)} at the end${
      Math.max(report.machine.loadAverage.start, report.machine.loadAverage.end) > report.machine.cpus
        ? ' (BUSY: other work competed for the CPUs, the ratios are noisy)'
        : ''
    }`,
    ...(dataset.clusterKeys === undefined
      ? []
      : [`Cluster: ${dataset.clusterKeys.toLocaleString('en-US')} keys × ${dataset.valueSize} B values over 3 primaries`]),
    `Rounds: ${report.rounds} timed per side (after ${report.warmupRounds} untimed warm-up), sides alternating, \`sync\` between rounds`,
    '',
  ];
  const seconds = (value: number) => value.toFixed(2);
  const header = ['seconds', ...Array.from({ length: report.rounds }, (_, i) => `round ${i + 1}`), 'median'];
  for (const comparison of report.comparisons) {
    const rows = [
      [`${comparison.name}: raw (${comparison.raw})`, ...comparison.rawSeconds.map(seconds), seconds(comparison.rawMedian)],
      [
        `${comparison.name}: redis-playbook (${comparison.playbook})`,
        ...comparison.playbookSeconds.map(seconds),
        seconds(comparison.playbookMedian),
      ],
    ];
    const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
    const line = (cells: string[]) =>
      cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
    out.push(line(header), ...rows.map(line));
    for (const [side, rounds] of [
      ['raw', comparison.rawPhases],
      ['redis-playbook', comparison.playbookPhases],
    ] as const) {
      for (const [round, phases] of rounds.entries()) {
        const parts = Object.entries(phases).map(([phase, value]) => `${phase} ${seconds(value)}`);
        if (parts.length > 0) out.push(`  ${side} round ${round + 1}: ${parts.join(' · ')}`);
      }
    }
    const difference = comparison.playbookMedian - comparison.rawMedian;
    out.push(
      `  ratio of medians ${comparison.ratio.toFixed(2)} (${difference >= 0 ? '+' : ''}${seconds(difference)} s)${comparison.withinTarget ? '' : `  ABOVE TARGET (≤ ${comparison.target ?? report.targetRatio})`}`,
      '',
    );
  }
  out.push(
    report.comparisons
      .map(
        (comparison) =>
          `${comparison.name} ratio ${comparison.ratio.toFixed(2)} (target ≤ ${comparison.target ?? report.targetRatio}${comparison.withinTarget ? '' : ', ABOVE TARGET'})`,
      )
      .join(' · '),
  );
  return `${out.join('\n')}\n`;
}
