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

/**
 * The badge for a report result: "Verified on Redis 7.0.15 · 2026-11-25" only for a passed result;
 * "Failed" for a failed one; "Not verified" when the report has no result, the check was skipped, or
 * the command was edited after it was verified (`command` is the registry's current template).
 */
export function verifyBadge(result: Result | undefined, command: string): VerifyBadge {
  if (!result) return { status: 'unverified', text: 'Not verified', variant: 'caution' };
  if (result.command !== command) return { status: 'unverified', text: 'Not verified (changed since the last run)', variant: 'caution' };
  const day = dayOf(result.verifiedAt);
  switch (result.status) {
    case 'passed':
      return { status: 'passed', text: `Verified on ${engineLabel(result.engine)} ${result.version} · ${day}`, variant: 'success' };
    case 'failed':
      return { status: 'failed', text: `Failed on ${engineLabel(result.engine)} ${result.version} · ${day}`, variant: 'danger' };
    case 'skipped':
      return { status: 'skipped', text: `Not verified (skipped) · ${day}`, variant: 'caution' };
  }
}

/**
 * Highlighting language for a flavor's `lang`. Shiki has no grammar for redis.conf or crontab lines,
 * so those render as plain text instead of logging an unknown-language warning on every build.
 */
export function highlightLang(lang: string): string {
  return lang === 'conf' || lang === 'cron' ? 'txt' : lang;
}
