#!/usr/bin/env node
/**
 * `npm run lint [-- DIR]`: the drift guard of the pages. Nothing on a page claims more than was run:
 * every command a reader is told to run comes from the snippet registry (scripts/snippets), where it
 * is verified, or is visibly marked "not verified here" with the reason (src/components/NotVerified.astro).
 * So in every .md/.mdx file under DIR (default: content/) this fails on
 *  - a fenced code block of any language, or none (```bash, ~~~yaml, ``` …) outside <NotVerified block>,
 *  - a system command alone in inline code (`sudo …`, `sysctl name=value`, `systemctl stop unit`,
 *    `CONFIG SET name value`, a redis-cli that shuts down, flushes or reconfigures) outside <NotVerified>, and
 *  - a `<Snippet id="…"/>` whose id is not in the registry (or has no literal id at all), and,
 *    when DIR is the project's content/, a registry snippet missing from the page it names.
 * Prints one `path:line: problem` line per finding and exits 1; exits 0 with a summary line otherwise,
 * 2 when DIR cannot be read.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registry } from '../snippets/registry.ts';

/** Fence languages that are shell commands (shiki names and aliases). */
export const shellLanguages = new Set(['sh', 'bash', 'shell', 'console', 'zsh', 'shellscript', 'shellsession', 'shell-session']);

export interface Finding {
  /** 1-based line of the offending fence or tag. */
  line: number;
  message: string;
}

export const SHELL_BLOCK_MESSAGE = 'shell code block not from the registry (use <Snippet id=…/>)';
export const FENCED_BLOCK_MESSAGE = 'code block not from the registry (use <Snippet id=…/>, or <NotVerified block reason="…"> around it)';
export const INLINE_COMMAND_MESSAGE = 'command in inline code that no verification runs (use <NotVerified reason="…"> around it)';

/**
 * Commands in inline code that a reader is told to run and that change a machine or a server: each
 * must be a <Snippet/> or inside <NotVerified>. Mentions of a program or a subcommand (`docker exec`,
 * `kill -9`, `CONFIG SET dir`) are not matched: they are not commands to run as written.
 */
export const SYSTEM_COMMANDS: readonly RegExp[] = [
  /^sudo\s+\S/,
  /^sysctl\s+(-w\s+)?[\w.]+=\S*/,
  /^systemctl\s+(start|stop|restart|reload|enable|disable|kill|mask|unmask)\s+\S+/,
  /^(CONFIG\s+SET|config\s+set)\s+\S+\s+\S+/,
  /^(redis|valkey)-cli\b.*\s(SHUTDOWN|FLUSHALL|FLUSHDB|CONFIG\s+SET|DEBUG)\b/i,
];

/** The language of a fence's info string: its first word, before attributes (`bash title="x"`, `sh{2}`, `{.bash}`). */
export function fenceLanguage(info: string): string {
  const match = /^\{?\.?([A-Za-z0-9_+-]+)/.exec(info.trim());
  return (match?.[1] ?? '').toLowerCase();
}

const FENCE_OPEN = /^(?:[ \t]*>)*[ \t]*(`{3,}|~{3,})(.*)$/;
const FENCE_CLOSE = /^(?:[ \t]*>)*[ \t]*(`{3,}|~{3,})[ \t]*$/;
const SNIPPET_TAG = /<Snippet\b([^>]*?)\/?>/g;
const ID_ATTRIBUTE = /\bid\s*=\s*(?:"([^"]*)"|'([^']*)'|\{\s*(?:"([^"]*)"|'([^']*)'|`([^`$]*)`)\s*\})/;

export interface PageScan {
  findings: Finding[];
  /** Ids of the `<Snippet/>` tags the page renders (outside fenced blocks), in order. */
  snippetIds: string[];
}

/** Whether an offset is inside an inline code span (an odd number of backticks before it on its line). */
function insideCodeSpan(source: string, offset: number): boolean {
  const lineStart = source.lastIndexOf('\n', offset - 1) + 1;
  return (source.slice(lineStart, offset).match(/`/g)?.length ?? 0) % 2 === 1;
}

/** Offset ranges of `<NotVerified …>…</NotVerified>` elements (outside code), and of the `block` ones. */
function notVerifiedRanges(source: string): { start: number; end: number; block: boolean }[] {
  const ranges: { start: number; end: number; block: boolean }[] = [];
  for (const open of source.matchAll(/<NotVerified\b([^>]*)>/g)) {
    if (insideCodeSpan(source, open.index)) continue;
    const close = source.indexOf('</NotVerified>', open.index);
    if (close < 0) continue;
    ranges.push({ start: open.index, end: close, block: /\bblock\b/.test(open[1] ?? '') });
  }
  return ranges;
}

/** Inline code spans of a line (single backticks, CommonMark's simple case): offset in the line and text. */
function codeSpans(text: string): { at: number; code: string }[] {
  return [...text.matchAll(/(?<!`)`([^`]+)`(?!`)/g)].map((match) => ({ at: match.index, code: (match[1] ?? '').trim() }));
}

/** Scans one page's source. `known` tells whether a snippet id exists. */
export function scanPage(source: string, known: (id: string) => boolean): PageScan {
  const findings: Finding[] = [];
  const snippetIds: string[] = [];
  const lines = source.split(/\r?\n/);
  const marked = notVerifiedRanges(source);
  const inside = (offset: number, block: boolean) =>
    marked.some((range) => range.start <= offset && offset < range.end && (!block || range.block));
  /** Lines inside a fenced block (fences included): tags there are shown, not rendered. */
  const fenced = new Set<number>();
  let fence: { marker: string; length: number } | undefined;
  let offset = 0;
  for (const [index, text] of lines.entries()) {
    const line = index + 1;
    const lineStart = offset;
    offset += text.length + 1;
    if (fence) {
      fenced.add(line);
      const close = FENCE_CLOSE.exec(text);
      const run = close?.[1];
      if (run?.startsWith(fence.marker) && run.length >= fence.length) fence = undefined;
      continue;
    }
    const open = FENCE_OPEN.exec(text);
    // A backtick fence's info string cannot contain a backtick (CommonMark): that line is inline code.
    if (!open?.[1] || (open[1].startsWith('`') && (open[2] ?? '').includes('`'))) {
      for (const span of codeSpans(text)) {
        if (SYSTEM_COMMANDS.some((pattern) => pattern.test(span.code)) && !inside(lineStart + span.at, false)) {
          findings.push({ line, message: `${INLINE_COMMAND_MESSAGE}: \`${span.code}\`` });
        }
      }
      continue;
    }
    const marker = open[1];
    const info = open[2] ?? '';
    fence = { marker: marker[0] as string, length: marker.length };
    fenced.add(line);
    if (inside(lineStart, true)) continue;
    findings.push({ line, message: shellLanguages.has(fenceLanguage(info)) ? SHELL_BLOCK_MESSAGE : FENCED_BLOCK_MESSAGE });
  }
  for (const tag of source.matchAll(SNIPPET_TAG)) {
    const line = source.slice(0, tag.index).split('\n').length;
    if (fenced.has(line) || insideCodeSpan(source, tag.index)) continue;
    const id = ID_ATTRIBUTE.exec(tag[1] ?? '');
    const value = (id?.slice(1) as (string | undefined)[] | undefined)?.find((group) => group !== undefined);
    if (value === undefined) {
      findings.push({ line, message: '<Snippet> without a literal id="…"' });
      continue;
    }
    snippetIds.push(value);
    if (!known(value)) findings.push({ line, message: `<Snippet id="${value}"> is not in the registry (scripts/snippets)` });
  }
  return { findings: findings.sort((a, b) => a.line - b.line), snippetIds };
}

/** Every .md/.mdx file under a directory, sorted; dot-directories and node_modules are skipped. */
export async function pageFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.mdx?$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter(
      (file) =>
        !relative(dir, file)
          .split(/[\\/]/)
          .some((part) => part.startsWith('.') || part === 'node_modules'),
    )
    .sort();
}

/** How a path is printed: relative to the working directory when inside it, absolute otherwise. */
function display(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

const projectContent = fileURLToPath(new URL('../../content', import.meta.url));

async function main(): Promise<number> {
  const dir = resolve(process.argv[2] ?? 'content');
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    process.stderr.write(`content-blocks: ${display(dir)} is not a directory\n`);
    return 2;
  }
  const files = await pageFiles(dir);
  let problems = 0;
  let snippets = 0;
  const shown = new Map<string, Set<string>>();
  for (const file of files) {
    const source = await readFile(file, 'utf8');
    const scan = scanPage(source, (id) => registry.has(id));
    snippets += scan.snippetIds.length;
    shown.set(file, new Set(scan.snippetIds));
    for (const finding of scan.findings) {
      problems++;
      process.stdout.write(`${display(file)}:${finding.line}: ${finding.message}\n`);
    }
  }
  if (dir === projectContent) {
    // Every block in the registry is verified for a page: it must be on that page.
    for (const snippet of registry.values()) {
      const page = [join(dir, 'docs', `${snippet.page}.mdx`), join(dir, 'docs', `${snippet.page}.md`)].find((path) => shown.has(path));
      if (page && shown.get(page)?.has(snippet.id)) continue;
      problems++;
      process.stdout.write(
        `${display(join(dir, 'docs', `${snippet.page}.mdx`))}: snippet "${snippet.id}" names this page but the page does not show it\n`,
      );
    }
  }
  if (problems > 0) {
    process.stderr.write(`content-blocks: ${problems} problem${problems === 1 ? '' : 's'} in ${display(dir)}\n`);
    return 1;
  }
  process.stdout.write(
    `content-blocks: ${files.length} page${files.length === 1 ? '' : 's'}, ${snippets} <Snippet/> block${snippets === 1 ? '' : 's'}, every command block comes from the registry or says why it is not verified here\n`,
  );
  return 0;
}

if (import.meta.main) process.exitCode = await main();
