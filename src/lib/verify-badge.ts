import type { Result } from '../../scripts/data/report.ts';
import { firstLine, formatDuration, statusLabels } from './status-rows.ts';

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

/** `Redis 7.0.15`: the product and full version a result ran on. */
export function engineName(result: Pick<Result, 'engine' | 'version'>): string {
  return `${engineLabel(result.engine)} ${result.version}`;
}

/**
 * How a badge names the engines of some results: their versions, grouped by product in the order the
 * results first name them, each version once: `Redis 7.0.15 · 8.0.2 · Valkey 8.1.1`. Docker results
 * say which images: `in the official images`, `in local image builds`, or both.
 */
export function enginesText(results: readonly Result[]): string {
  const products = new Map<string, string[]>();
  for (const result of results) {
    const versions = products.get(result.engine) ?? [];
    if (!versions.includes(result.version)) versions.push(result.version);
    products.set(result.engine, versions);
  }
  const names = [...products].map(
    ([product, versions]) => `${engineLabel(product)} ${versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(' · ')}`,
  );
  const underSystemd = results.some((result) => result.serviceManager === 'systemd') ? " (Debian's package under systemd)" : '';
  return `${names.join(' · ')}${underSystemd}${imagesText(results)}`;
}

/** ` in the official images` / ` in local image builds` / both, for Docker results; empty for host ones. */
function imagesText(results: readonly Result[]): string {
  const origins = new Set(results.flatMap((result) => (result.flavor === 'docker' && result.imageOrigin ? [result.imageOrigin] : [])));
  if (origins.size === 0) return '';
  const words = {
    official: 'the official images',
    'local-build': 'local image builds',
    override: 'the REDIS_PLAYBOOK_IMAGE image',
  } as const;
  return ` in ${[...origins]
    .sort()
    .map((origin) => words[origin])
    .join(' and ')}`;
}

/** What a Docker result's image is, for people: `official redis:7.0`, `local build redis-playbook/redis:8.0.2 (of Redis 8.0.2)`. */
export function imageText(result: Pick<Result, 'image' | 'imageOrigin' | 'engine' | 'version'>): string | undefined {
  if (!result.image) return undefined;
  if (result.imageOrigin === 'official') return `official ${result.image}`;
  if (result.imageOrigin === 'override') return `${result.image} (REDIS_PLAYBOOK_IMAGE)`;
  if (result.imageOrigin === 'local-build')
    return `local build ${result.image} (of ${engineLabel(result.engine)} ${result.version} from Debian's packages, not the official image)`;
  return result.image;
}

/** A block flavor's results as a list, whether the caller has none, one or one per engine. */
function resultList(results: Result | readonly Result[] | undefined): readonly Result[] {
  return results === undefined ? [] : Array.isArray(results) ? (results as readonly Result[]) : [results as Result];
}

/**
 * Whether a result verified the block as it is now: its fingerprint is the registry's (command, config,
 * placeholder values, setup/verify code, engine: scripts/snippets/fingerprint.ts). The site's is
 * `isCurrent` of src/lib/site-report.ts.
 */
export type Current = (result: Result) => boolean;

/** The results that verified a block flavor as it is now. */
function currentResults(results: Result | readonly Result[] | undefined, current: Current): Result[] {
  return resultList(results).filter(current);
}

/**
 * The badge of a command block from its report results, one per engine it ran on, naming the versions
 * that answered (the details being in {@link engineDetails}): "Verified on Redis 7.0.15 · 8.0.2 ·
 * Valkey 8.1.1 · 2026-11-26" when every engine passed; "Failed on Valkey 8.1.1 · passed on Redis
 * 7.0.15 · …" when any failed, so that a failure anywhere shows; "Not
 * verified" when the report has no result, the checks were skipped, or the command was edited after it
 * was verified (`command` is the registry's current template). The day is that of the latest run.
 */
export function verifyBadge(results: Result | readonly Result[] | undefined, current: Current): VerifyBadge {
  if (resultList(results).length === 0) return { status: 'unverified', text: 'Not verified', variant: 'caution' };
  const fresh = currentResults(results, current);
  if (fresh.length === 0) return { status: 'unverified', text: 'Not verified (changed since the last run)', variant: 'caution' };
  const day = dayOf(
    fresh
      .map((result) => result.verifiedAt)
      .sort()
      .at(-1) as string,
  );
  const passed = fresh.filter((result) => result.status === 'passed');
  const failed = fresh.filter((result) => result.status === 'failed');
  if (failed.length > 0) {
    const also = passed.length > 0 ? ` · passed on ${enginesText(passed)}` : '';
    return { status: 'failed', text: `Failed on ${enginesText(failed)}${also} · ${day}`, variant: 'danger' };
  }
  if (passed.length > 0) return { status: 'passed', text: `Verified on ${enginesText(passed)} · ${day}`, variant: 'success' };
  return { status: 'skipped', text: `Not verified (skipped) · ${day}`, variant: 'caution' };
}

/** One engine's line in a block's "Where it ran" details. */
export interface EngineDetail {
  /** Engine id of the harness (`redis-7.0`, `valkey-8.1`, …). */
  engineId: string;
  /** Product and full version, `Redis 7.0.15`. */
  name: string;
  status: Result['status'];
  /** `Passed`, `Failed` or `Skipped`. */
  label: string;
  /** When it ran (ISO 8601, UTC). */
  verifiedAt: string;
  /** The same to the minute, for people: `2026-11-26 04:39 UTC`. */
  when: string;
  /** How long it took, `1.9 s`. */
  duration: string;
  /** Why it failed or was skipped: the first line of the error. */
  note?: string;
  /** What answered: the server's own version line (INFO server, or the `--version` of what ran). */
  server?: string;
  /** A Docker result's image: official or a local build, and of what; with its image ID and Compose version. */
  image?: string;
}

/**
 * What a block's badge sums up, one line per engine: the results of the current command (those the
 * badge counts), grouped by product in the order the report first names them (the host's Redis
 * first), then by version. Empty when the badge says "Not verified" for want of any.
 */
export function engineDetails(results: Result | readonly Result[] | undefined, current: Current): EngineDetail[] {
  const fresh = currentResults(results, current);
  const products = [...new Set(fresh.map((result) => result.engine))];
  return fresh
    .sort(
      (a, b) =>
        products.indexOf(a.engine) - products.indexOf(b.engine) ||
        a.version.localeCompare(b.version, 'en', { numeric: true }) ||
        a.engineId.localeCompare(b.engineId),
    )
    .map((result) => ({
      engineId: result.engineId,
      name: engineName(result),
      status: result.status,
      label: statusLabels[result.status],
      verifiedAt: result.verifiedAt,
      when: minuteOf(result.verifiedAt),
      duration: formatDuration(result.durationMs),
      ...(result.status !== 'passed' && result.error
        ? { note: firstLine(result.error) }
        : result.variant
          ? { note: `ran the command for ${result.variant}` }
          : {}),
      ...(result.server ? { server: result.server.line } : {}),
      ...(result.image
        ? {
            image: [
              imageText(result),
              result.imageId && `image ID ${result.imageId.replace(/^sha256:/, '').slice(0, 12)}`,
              result.compose && `Compose ${result.compose}`,
            ]
              .filter(Boolean)
              .join(', '),
          }
        : {}),
    }));
}

/**
 * Highlighting language for a flavor's `lang`. Shiki has no grammar for redis.conf or crontab lines,
 * so those render as plain text instead of logging an unknown-language warning on every build.
 */
export function highlightLang(lang: string): string {
  return lang === 'conf' || lang === 'cron' ? 'txt' : lang;
}
