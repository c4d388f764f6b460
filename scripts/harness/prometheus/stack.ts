import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { findOnPath } from '../docker/exec.ts';
import { DisposedAtExit, processAlive } from '../exit-hook.ts';
import { freePort } from '../free-port.ts';
import { fatal, waitFor } from '../wait.ts';

/**
 * Debian bookworm's monitoring programs (scripts/setup.sh installs them): `prometheus` and `promtool`
 * 2.42 from the `prometheus` package, `prometheus-redis-exporter` 1.45 (redis_exporter).
 */
export const monitoringPrograms = ['prometheus', 'promtool', 'prometheus-redis-exporter'] as const;
export type MonitoringProgram = (typeof monitoringPrograms)[number];

/** Why the monitoring programs cannot run here (the missing ones named), or undefined when all are on PATH. */
export function monitoringUnavailableReason(programs: readonly MonitoringProgram[] = monitoringPrograms): string | undefined {
  const missing = programs.filter((name) => !findOnPath(name));
  return missing.length
    ? `${missing.join(', ')} not on PATH (Debian's prometheus and prometheus-redis-exporter: bash scripts/setup.sh)`
    : undefined;
}

/** One alert of Prometheus's `/api/v1/alerts`. */
export const PrometheusAlertSchema = z.object({
  /** `alertname`, the series' labels and the rule's labels. */
  labels: z.record(z.string(), z.string()),
  /** `pending` until the rule's `for:` has passed, then `firing`. */
  state: z.enum(['pending', 'firing', 'inactive']),
  /** When the expression first held (RFC 3339). */
  activeAt: z.string(),
});
export type PrometheusAlert = z.infer<typeof PrometheusAlertSchema>;

const AlertsReplySchema = z.object({ status: z.literal('success'), data: z.object({ alerts: z.array(PrometheusAlertSchema) }) });

/** What {@link startMonitoring} scrapes and evaluates. */
export interface MonitoringOptions {
  /** The Redis to scrape (127.0.0.1 and its port); the password goes to the exporter through its environment only. */
  target: { host: string; port: number; password?: string | undefined };
  /** The rules file's text Prometheus loads. */
  rules: string;
  /** Scrape and rule evaluation interval, in seconds. */
  intervalSeconds: number;
  /** A dir of the caller's (a temp dir it removes): config, TSDB and logs go there, and the processes run in it. */
  dir: string;
  /** Prometheus's port on 127.0.0.1 (a free one when absent). */
  prometheusPort?: number;
}

/** Processes alive in this process, killed on exit whatever happens. */
const live = new DisposedAtExit<ChildProcess>((child) => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts `program` with `args` in `dir`, its output into `log` (never a pipe left open). */
function startProcess(program: string, args: string[], dir: string, log: string, env: Record<string, string>): ChildProcess {
  const out = openSync(log, 'a');
  try {
    const child = spawn(program, args, { cwd: dir, stdio: ['ignore', out, out], env });
    live.add(child);
    child.on('error', () => undefined);
    return child;
  } finally {
    closeSync(out);
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await waitFor(() => !processAlive(pid), { what: `process ${pid} to exit`, timeoutMs: 10_000 }).catch(() => {
      child.kill('SIGKILL');
      return waitFor(() => !processAlive(pid), { what: `process ${pid} to exit after SIGKILL` });
    });
  }
  live.delete(child);
}

/**
 * A real redis_exporter and a real Prometheus on free loopback ports, scraping one Redis every
 * `intervalSeconds` and evaluating the given rules as often. Disposal (`await using`) stops both.
 */
export class DisposableMonitoring {
  readonly exporterUrl: string;
  readonly prometheusUrl: string;
  readonly exporterLog: string;
  readonly prometheusLog: string;
  readonly #exporter: ChildProcess;
  readonly #prometheus: ChildProcess;

  constructor(exporter: { child: ChildProcess; url: string; log: string }, prometheus: { child: ChildProcess; url: string; log: string }) {
    this.#exporter = exporter.child;
    this.exporterUrl = exporter.url;
    this.exporterLog = exporter.log;
    this.#prometheus = prometheus.child;
    this.prometheusUrl = prometheus.url;
    this.prometheusLog = prometheus.log;
  }

  /** Process ids of the exporter and Prometheus (for a look at their command lines). */
  get pids(): number[] {
    return [this.#exporter.pid, this.#prometheus.pid].filter((pid): pid is number => pid !== undefined);
  }

  /** Prometheus's alerts now (pending and firing). */
  async alerts(): Promise<PrometheusAlert[]> {
    const reply = await fetch(`${this.prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(5_000) });
    return AlertsReplySchema.parse(await reply.json()).data.alerts;
  }

  /** The state of alert `name` now, or `inactive` when Prometheus lists none. */
  async state(name: string): Promise<PrometheusAlert['state']> {
    return (await this.alerts()).find((alert) => alert.labels.alertname === name)?.state ?? 'inactive';
  }

  /** The exporter's metrics page as Prometheus scrapes it. */
  async metrics(): Promise<string> {
    return (await fetch(`${this.exporterUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  }

  /** Prometheus's view of its scrape targets (JSON text). */
  async targets(): Promise<string> {
    return (await fetch(`${this.prometheusUrl}/api/v1/targets`, { signal: AbortSignal.timeout(5_000) })).text();
  }

  /** Both logs, as written so far. */
  async logs(): Promise<string> {
    return `${await readFile(this.exporterLog, 'utf8').catch(() => '')}${await readFile(this.prometheusLog, 'utf8').catch(() => '')}`;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await stopProcess(this.#prometheus);
    await stopProcess(this.#exporter);
  }
}

/** Waits until `url` answers 200; fails at once when `child` has exited (its log then says why). */
async function waitServing(child: ChildProcess, url: string, what: string, log: string): Promise<void> {
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw fatal(`${what} exited during start`);
        return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
      },
      { what: `${what} to answer ${url}`, timeoutMs: 30_000, intervalMs: 50 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await readFile(log, 'utf8').catch(() => '')}`, { cause: error });
  }
}

/**
 * Starts redis_exporter (the password as `REDIS_PASSWORD` in its environment, never in argv) and
 * Prometheus (its rules, a scrape job `redis` of the exporter), and waits until Prometheus has
 * scraped the exporter once and the exporter reached Redis (`redis_up 1`).
 */
export async function startMonitoring(options: MonitoringOptions): Promise<DisposableMonitoring> {
  const { target, dir, intervalSeconds } = options;
  const programs = Object.fromEntries(monitoringPrograms.map((name) => [name, findOnPath(name)])) as Record<
    MonitoringProgram,
    string | undefined
  >;
  const exporterProgram = programs['prometheus-redis-exporter'];
  if (!exporterProgram || !programs.prometheus) throw new Error(monitoringUnavailableReason() ?? 'monitoring programs missing');
  await mkdir(join(dir, 'tsdb'), { recursive: true });
  const basicEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };

  const exporterPort = await freePort();
  const exporterLog = join(dir, 'redis-exporter.log');
  const exporterEnv: Record<string, string> = { ...basicEnv, REDIS_ADDR: `redis://${target.host}:${target.port}` };
  if (target.password) exporterEnv.REDIS_PASSWORD = target.password;
  const exporterChild = startProcess(exporterProgram, ['-web.listen-address', `127.0.0.1:${exporterPort}`], dir, exporterLog, exporterEnv);
  const exporter = { child: exporterChild, url: `http://127.0.0.1:${exporterPort}`, log: exporterLog };

  const prometheusPort = options.prometheusPort ?? (await freePort());
  const prometheusLog = join(dir, 'prometheus.log');
  await writeFile(join(dir, 'rules.yml'), options.rules);
  const interval = `${intervalSeconds}s`;
  await writeFile(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'rule_files:',
      '  - rules.yml',
      'scrape_configs:',
      '  - job_name: redis',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${exporterPort}']`,
      '',
    ].join('\n'),
  );
  const prometheusChild = startProcess(
    programs.prometheus,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--log.level=warn',
    ],
    dir,
    prometheusLog,
    basicEnv,
  );
  const monitoring = new DisposableMonitoring(exporter, {
    child: prometheusChild,
    url: `http://127.0.0.1:${prometheusPort}`,
    log: prometheusLog,
  });
  try {
    await waitServing(exporterChild, `${exporter.url}/metrics`, 'redis_exporter', exporterLog);
    await waitServing(prometheusChild, `${monitoring.prometheusUrl}/-/ready`, 'Prometheus', prometheusLog);
    const UpSchema = z.object({ data: z.object({ result: z.array(z.object({ value: z.tuple([z.number(), z.string()]) })) }) });
    await waitFor(
      async () => {
        const reply = await fetch(`${monitoring.prometheusUrl}/api/v1/query?query=redis_up`, { signal: AbortSignal.timeout(2_000) });
        return UpSchema.parse(await reply.json()).data.result[0]?.value[1] === '1';
      },
      { what: 'Prometheus to scrape redis_up 1 from the exporter', timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (error) {
    await monitoring[Symbol.asyncDispose]();
    throw error;
  }
  return monitoring;
}
