/**
 * The built site's link check: every `<a href>` of every HTML page in dist/ that points into the site
 * must reach a page that exists, and its `#fragment` an element of that page with that id. Run after
 * `astro build` by the integration in ./links-integration.ts, so a broken link fails the build; it
 * reads the output rather than the sources, so links written by components (page cards, the status
 * table, the footer) are checked as well as the pages' Markdown.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** One link that does not resolve. */
export interface BrokenLink {
  /** The page holding it, as a URL path (`/recovery/rollback/`). */
  page: string;
  /** The `href` as written. */
  href: string;
  /** What is wrong: `no page` or `no element with id "…"`. */
  problem: string;
}

export interface LinkCheck {
  /** Pages scanned (HTML files in the output). */
  pages: number;
  /** Internal links checked. */
  links: number;
  broken: BrokenLink[];
}

/** The URL origin links are resolved against; any other origin is external and not checked. */
const ORIGIN = 'http://site.invalid';

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };
const decodeEntities = (text: string) =>
  text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return entities[name] ?? String.fromCodePoint(Number(name.slice(1)));
    return entities[name.toLowerCase()] ?? whole;
  });

/** Markup without the bodies of scripts, styles and templates, where `href=`/`id=` are not attributes. */
const markupOnly = (html: string) => html.replace(/<(script|style|template)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '');

/** `href` values of the `<a>` elements of a page, decoded. */
export function anchorHrefs(html: string): string[] {
  return [...markupOnly(html).matchAll(/<a\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)].map((m) => decodeEntities(m[1] ?? m[2] ?? ''));
}

/** The ids (and `<a name>`s) a fragment can point at. */
export function fragmentTargets(html: string): Set<string> {
  const markup = markupOnly(html);
  const ids = [...markup.matchAll(/<[a-z][\w-]*\b[^>]*?\sid\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)].map((m) => m[1] ?? m[2] ?? '');
  const names = [...markup.matchAll(/<a\b[^>]*?\sname\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)].map((m) => m[1] ?? m[2] ?? '');
  return new Set([...ids, ...names].map(decodeEntities));
}

/** The URL path a built file is served at: `recovery/rollback/index.html` → `/recovery/rollback/`. */
export function pagePath(file: string): string {
  const path = `/${file.split(sep).join('/')}`;
  return path.endsWith('/index.html') ? path.slice(0, -'index.html'.length) : path;
}

async function htmlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.html'))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/**
 * The built file a URL path is served from, as `astro preview` and static hosts resolve it:
 * `/a/b/` → `a/b/index.html`; `/a/b` → `a/b`, `a/b.html` or `a/b/index.html`.
 */
function candidates(path: string): string[] {
  const file = decodeURIComponent(path).replace(/^\//, '');
  if (file === '' || file.endsWith('/')) return [`${file}index.html`];
  return [file, `${file}.html`, `${file}/index.html`];
}

/** Checks every internal link of the site built into `dir` (Astro's outDir). */
export async function checkLinks(dir: string): Promise<LinkCheck> {
  const files = await htmlFiles(dir);
  const html = new Map<string, string>();
  for (const file of files) html.set(file.split(sep).join('/'), await readFile(join(dir, file), 'utf8'));
  const targets = new Map<string, Set<string>>();
  const targetsOf = (file: string) => {
    let ids = targets.get(file);
    if (!ids) targets.set(file, (ids = fragmentTargets(html.get(file) ?? '')));
    return ids;
  };
  const exists = async (file: string) =>
    html.has(file) ||
    (await readFile(join(dir, file)).then(
      () => true,
      () => false,
    ));

  const broken: BrokenLink[] = [];
  let links = 0;
  for (const [file, source] of html) {
    const page = pagePath(file);
    for (const href of anchorHrefs(source)) {
      let url: URL;
      try {
        url = new URL(href, `${ORIGIN}${page}`);
      } catch {
        broken.push({ page, href, problem: 'not a valid URL' });
        continue;
      }
      if (url.origin !== ORIGIN) continue;
      links++;
      let target: string | undefined;
      for (const candidate of candidates(url.pathname)) {
        if (await exists(candidate)) {
          target = candidate;
          break;
        }
      }
      if (!target) {
        broken.push({ page, href, problem: 'no page' });
        continue;
      }
      const fragment = decodeURIComponent(url.hash.slice(1));
      if (fragment && target.endsWith('.html') && !targetsOf(target).has(fragment)) {
        broken.push({ page, href, problem: `no element with id "${fragment}" on ${pagePath(target)}` });
      }
    }
  }
  return { pages: files.length, links, broken };
}
