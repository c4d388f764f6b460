import type { Result } from '../../scripts/verify/report.ts';

/** What the badge of one command block says, derived only from the verification report. */
export interface VerifyBadge {
  /** `passed` / `failed` / `skipped` from the report, `unverified` when it has no result. */
  status: Result['status'] | 'unverified';
  text: string;
  variant: 'success' | 'danger' | 'caution';
}

/** `redis` → `Redis`, `valkey` → `Valkey`. */
export function engineLabel(engine: string): string {
  return engine.charAt(0).toUpperCase() + engine.slice(1);
}

/** The UTC day of an ISO timestamp, `YYYY-MM-DD`. */
export function dayOf(iso: string): string {
  return new Date(iso).toISOString().slice(0, 10);
}

/** An ISO timestamp to the minute, in UTC: `YYYY-MM-DD HH:MM UTC`. */
export function minuteOf(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `Redis 7.0.15, 8.0.2 · Valkey 8.1.1`: the engines of some results, grouped by product, in order. */
export function enginesText(results: readonly Result[]): string {
  const versions = new Map<string, string[]>();
  for (const result of results) {
    const list = versions.get(result.engine) ?? [];
    if (!list.includes(result.version)) list.push(result.version);
    versions.set(result.engine, list);
  }
  return [...versions].map(([engine, list]) => `${engineLabel(engine)} ${list.join(', ')}`).join(' · ');
}

/**
 * The badge of a command block from its report results, one per engine it ran on (the host's Redis
 * first): "Verified on Redis 7.0.15, 8.0.2 · Valkey 8.1.1 · 2026-11-25" when every engine passed;
 * "Failed on …" (naming where it passed too) when any failed; "Not verified" when the report has no
 * result, the checks were skipped, or the command was edited after it was verified (`command` is the
 * registry's current template). The day is that of the latest run.
 */
export function verifyBadge(results: Result | readonly Result[] | undefined, command: string): VerifyBadge {
  const all = results === undefined ? [] : Array.isArray(results) ? (results as readonly Result[]) : [results as Result];
  if (all.length === 0) return { status: 'unverified', text: 'Not verified', variant: 'caution' };
  const fresh = all.filter((result) => result.command === command);
  if (fresh.length === 0) return { status: 'unverified', text: 'Not verified (changed since the last run)', variant: 'caution' };
  const day = dayOf(fresh.map((result) => result.verifiedAt).sort().at(-1) as string);
  const passed = fresh.filter((result) => result.status === 'passed');
  const failed = fresh.filter((result) => result.status === 'failed');
  if (failed.length > 0) {
    const also = passed.length > 0 ? ` · passed on ${enginesText(passed)}` : '';
    return { status: 'failed', text: `Failed on ${enginesText(failed)}${also} · ${day}`, variant: 'danger' };
  }
  if (passed.length > 0) return { status: 'passed', text: `Verified on ${enginesText(passed)} · ${day}`, variant: 'success' };
  return { status: 'skipped', text: `Not verified (skipped) · ${day}`, variant: 'caution' };
}

/**
 * Highlighting language for a flavor's `lang`. Shiki has no grammar for redis.conf or crontab lines,
 * so those render as plain text instead of logging an unknown-language warning on every build.
 */
export function highlightLang(lang: string): string {
  return lang === 'conf' || lang === 'cron' ? 'txt' : lang;
}
