#!/usr/bin/env node
/**
 * `npm run bench:site [-- --json]`: what each page of the built site (dist/, `npm run build` first)
 * costs a first-time visitor, measured in Chromium: the HTML, CSS and JS it fetches, raw and gzipped
 * (zlib's default level; the bytes are served uncompressed here and compressed by this script).
 *
 * "JS on load" is every script the page runs without any interaction: the script files fetched
 * until the network is idle plus the inline scripts of the HTML (counted again here, though they
 * travel inside the HTML). It is split into what the HTML loads directly (its script tags and their
 * static imports) and what those load later through a dynamic `import()`: Starlight's search loads
 * the Pagefind UI that way when the browser is first idle, before the search is opened. The target
 * (under 60 KB of gzipped JS a page before search is opened, Pagefind's UI excluded) applies to the
 * former; both are printed. "On search" is what opening the search and typing a query fetches then
 * (Pagefind's engine, its WebAssembly, index chunks and fragments).
 *
 * A measurement: exit 0 whether or not the target is met (ABOVE TARGET is printed when not); 1 when
 * it cannot measure (no built site, no browser).
 */
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium, type Page, type Response } from '@playwright/test';
import { builtPageFiles, distDir } from '../site/built-pages.ts';
import { serveStatic } from './static-server.ts';

/** Gzipped JS a page may run before search is opened (Pagefind's UI excluded), bytes. */
export const JS_TARGET_GZIP = 60 * 1024;

/** Raw and gzipped bytes. */
export interface Size {
  raw: number;
  gzip: number;
}

export interface PageWeight {
  path: string;
  html: Size;
  css: Size;
  /** JS the page runs on load from its own script tags and their static imports, plus its inline scripts. */
  js: Size;
  /** Of {@link js}: the inline scripts. */
  inlineJs: Size;
  /** JS fetched on load through dynamic `import()` (the Pagefind UI, loaded when the browser is idle). */
  lazyJs: Size & { files: string[] };
  /** Everything opening the search and typing a query fetches. */
  onSearch: Size & { requests: number };
}

const size = (bodies: Buffer[]): Size => ({
  raw: bodies.reduce((sum, body) => sum + body.length, 0),
  gzip: bodies.reduce((sum, body) => sum + (body.length ? gzipSync(body).length : 0), 0),
});

/** Specifiers a module imports statically (`import … from "x"`, `import "x"`, `export … from "x"`), not `import("x")`. */
export function staticImports(source: string): string[] {
  const pattern = /(?:^|[;}\n\s])(?:import|export)\s*(?:[\w$*{}\s,]*?\s*from\s*)?["'`]([^"'`\s]+)["'`]/g;
  return [...source.matchAll(pattern)].map((match) => match[1] as string);
}

interface Fetched {
  url: string;
  type: string;
  body: Buffer;
}

function recorder(tab: Page): { fetched: Fetched[]; settled: () => Promise<void> } {
  const fetched: Fetched[] = [];
  const pending = new Set<Promise<void>>();
  tab.on('response', (response: Response) => {
    const job = response
      .body()
      .then((body) => void fetched.push({ url: response.url(), type: response.request().resourceType(), body }))
      .catch(() => undefined)
      .finally(() => pending.delete(job));
    pending.add(job);
  });
  return {
    fetched,
    settled: async () => {
      await Promise.all([...pending]);
    },
  };
}

async function measure(tab: Page, origin: string, path: string): Promise<PageWeight> {
  const { fetched, settled } = recorder(tab);
  await tab.goto(`${origin}${path}`, { waitUntil: 'load' });
  // Starlight starts the Pagefind UI when the browser is first idle: wait until it has rendered, so that
  // its bundle counts as loaded before interaction on a busy machine too.
  await tab.locator('#starlight__search .pagefind-ui').waitFor({ state: 'attached', timeout: 30_000 });
  await tab.waitForLoadState('networkidle');
  await settled();
  const onLoad = [...fetched];
  const inline = await tab.evaluate(() =>
    [...document.querySelectorAll('script:not([src])')]
      .filter(
        (script) =>
          !script.getAttribute('type') || script.getAttribute('type') === 'module' || script.getAttribute('type') === 'text/javascript',
      )
      .map((script) => script.textContent),
  );
  const entries = await tab.evaluate(() => [
    ...[...document.querySelectorAll<HTMLScriptElement>('script[src]')].map((script) => script.src),
    ...[...document.querySelectorAll<HTMLLinkElement>('link[rel="modulepreload"]')].map((link) => link.href),
  ]);

  const scripts = new Map(onLoad.filter((item) => item.type === 'script').map((item) => [item.url, item]));
  // The static import graph from the HTML's own scripts; anything else fetched on load came through import().
  const eager = new Set<string>();
  const visit = (url: string) => {
    if (eager.has(url)) return;
    eager.add(url);
    const script = scripts.get(url);
    if (script) for (const specifier of staticImports(script.body.toString('utf8'))) visit(new URL(specifier, url).href);
  };
  entries.forEach(visit);
  const eagerBodies = [...scripts.values()].filter((item) => eager.has(item.url)).map((item) => item.body);
  const lazy = [...scripts.values()].filter((item) => !eager.has(item.url));
  const inlineBodies = inline.map((text) => Buffer.from(text));

  const before = fetched.length;
  await tab.locator('site-search button[data-open-modal]').click();
  await tab.getByRole('dialog').getByRole('textbox', { name: 'Search' }).fill('backup');
  await tab.locator('.pagefind-ui__result').first().waitFor({ timeout: 15_000 });
  await tab.waitForLoadState('networkidle');
  await settled();
  const onSearch = fetched.slice(before);

  return {
    path,
    html: size(onLoad.filter((item) => item.type === 'document').map((item) => item.body)),
    css: size(onLoad.filter((item) => item.type === 'stylesheet').map((item) => item.body)),
    js: size([...eagerBodies, ...inlineBodies]),
    inlineJs: size(inlineBodies),
    lazyJs: { ...size(lazy.map((item) => item.body)), files: lazy.map((item) => new URL(item.url).pathname) },
    onSearch: { ...size(onSearch.map((item) => item.body)), requests: onSearch.length },
  };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const pair = (value: Size) => `${kb(value.raw)} / ${kb(value.gzip)}`;

export function formatWeights(weights: PageWeight[]): string {
  const columns = ['page', 'HTML', 'CSS', 'JS on load', '(inline)', 'Pagefind UI (idle)', 'on search'];
  const rows = weights.map((weight) => [
    weight.path,
    pair(weight.html),
    pair(weight.css),
    pair(weight.js),
    pair(weight.inlineJs),
    pair(weight.lazyJs),
    pair(weight.onSearch),
  ]);
  const widths = columns.map((column, index) => Math.max(column.length, ...rows.map((row) => (row[index] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  const heaviest = weights.reduce((max, weight) => (weight.js.gzip > max.js.gzip ? weight : max));
  const withUi = weights.reduce((max, weight) => Math.max(max, weight.js.gzip + weight.lazyJs.gzip), 0);
  const lazyFiles = [...new Set(weights.flatMap((weight) => weight.lazyJs.files))];
  return [
    'Bytes a first visit fetches, raw / gzip (zlib default level):',
    '',
    line(columns),
    ...rows.map(line),
    '',
    `Loaded on idle through import(), before search is opened: ${lazyFiles.join(', ') || 'nothing'}.`,
    `Heaviest JS on load: ${heaviest.path}, ${kb(heaviest.js.gzip)} gzip (target: under ${kb(JS_TARGET_GZIP)}, Pagefind UI excluded): ${
      heaviest.js.gzip < JS_TARGET_GZIP ? 'OK' : 'ABOVE TARGET'
    }.`,
    `With the idle-loaded Pagefind UI: at most ${kb(withUi)} gzip${withUi < JS_TARGET_GZIP ? ' (also under the target)' : ''}.`,
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
  const pages = builtPageFiles();
  await using server = await serveStatic(distDir);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const weights: PageWeight[] = [];
    for (const page of pages) {
      const context = await browser.newContext();
      try {
        process.stderr.write(`measuring ${page.path}\n`);
        weights.push(await measure(await context.newPage(), server.origin, page.path));
      } finally {
        await context.close();
      }
    }
    console.log(values.json ? JSON.stringify({ targetJsGzip: JS_TARGET_GZIP, pages: weights }, null, 2) : formatWeights(weights));
    return 0;
  } finally {
    await browser.close();
  }
}

if (import.meta.main) {
  main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(`bench:site: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
