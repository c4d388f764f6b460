/**
 * The CLI reference page (`content/docs/reference/cli.mdx`), written from the CLI's own declarations:
 * each command's option schema (options, defaults, environment), its `--json` schema
 * (`z.toJSONSchema`) and the exit-code table. `npm run cli-reference` writes it; `npm run lint`
 * regenerates it in memory and fails when the page differs.
 */
import { z } from 'zod';
import { exitCodes } from '../core/exit-codes.ts';
import { optionLabel, optionsOf, type CliCommand, type OptionInfo } from './command.ts';
import { commands } from './main.ts';

/** Where the page lives, from the project root. */
export const CLI_REFERENCE_PAGE = 'content/docs/reference/cli.mdx';

/** Text that MDX shows as written: no JSX, no expressions, no emphasis, no table breaks. */
function mdx(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[{}*_[\]|]/g, (char) => `\\${char}`);
}

/** Inline code (its text is literal in MDX), escaped for a table cell. */
function code(text: string): string {
  return `\`${text.replace(/\|/g, '\\|')}\``;
}

/** The default column of an option: its schema default, `required`, or a dash. */
function defaultOf(option: OptionInfo): string {
  if (option.default !== undefined && option.default !== false) return code(JSON.stringify(option.default).replace(/^"(.*)"$/, '$1'));
  return option.optional ? '' : 'required';
}

/** The environment variables the commands read, with the options that name them. */
function environmentRows(): string[] {
  const byVariable = new Map<string, Set<string>>();
  for (const command of commands) {
    for (const option of optionsOf(command.schema)) {
      if (option.meta.env)
        byVariable.set(option.meta.env, (byVariable.get(option.meta.env) ?? new Set()).add(`${command.name} --${option.name}`));
    }
  }
  const what: Record<string, string> = {
    REDISCLI_AUTH:
      "The server's password when the URL has none (as for redis-cli); never printed, and passed to a container as docker exec -e.",
    RESTIC_REPOSITORY: 'The restic repository when --repo is not given.',
    RESTIC_REPOSITORY_FILE: 'A file holding the repository URL when neither --repo nor --repo-file is given.',
    RESTIC_PASSWORD_FILE: "The repository password's file when --password-file is not given.",
  };
  const rows = [...byVariable].map(([name, users]) => `| ${code(name)} | ${[...users].map(code).join(', ')} | ${mdx(what[name] ?? '')} |`);
  rows.push(
    `| ${code('REDIS_PLAYBOOK_DEBUG')} | every command | ${mdx('1: after the one-line error, print its cause chain on stderr (never a password).')} |`,
  );
  return rows;
}

/** A JSON Schema node's type, in a few words. */
function typeOf(node: Record<string, unknown>): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (Array.isArray(node.enum)) return node.enum.map((value) => JSON.stringify(value)).join(' or ');
  const alternatives = (node.anyOf ?? node.oneOf) as Record<string, unknown>[] | undefined;
  if (alternatives) return [...new Set(alternatives.map(typeOf))].join(' or ');
  if (node.type === 'array') return `array of ${typeOf((node.items ?? {}) as Record<string, unknown>)}`;
  if (Array.isArray(node.type)) return node.type.join(' or ');
  return typeof node.type === 'string' ? node.type : 'any';
}

/** One row per field of a JSON Schema, by path (`manifest.files[].sha256`), depth first. */
function fieldRows(node: Record<string, unknown>, path: string, required: boolean, rows: string[]): void {
  if (path) {
    const description = typeof node.description === 'string' ? mdx(node.description) : '';
    rows.push(`| ${code(path)} | ${mdx(typeOf(node))}${required ? '' : ' (optional)'} | ${description} |`);
  }
  const items = node.type === 'array' ? ((node.items ?? {}) as Record<string, unknown>) : undefined;
  const inner = items ?? node;
  const innerPath = items ? `${path}[]` : path;
  const alternatives = (inner.anyOf ?? inner.oneOf) as Record<string, unknown>[] | undefined;
  for (const alternative of alternatives ?? []) if (alternative.type === 'object') walkProperties(alternative, innerPath, rows);
  if (inner.type === 'object') walkProperties(inner, innerPath, rows);
}

/** The rows of an object's properties (a property already listed, by another alternative of a union, once). */
function walkProperties(node: Record<string, unknown>, path: string, rows: string[]): void {
  const required = new Set((node.required ?? []) as string[]);
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>)) {
    const childPath = path ? `${path}.${name}` : name;
    if (rows.some((row) => row.startsWith(`| ${code(childPath)} |`))) continue;
    fieldRows(child, childPath, required.has(name), rows);
  }
}

/** The section of one command. */
function commandSection(command: CliCommand): string {
  const options = optionsOf(command.schema);
  const argumentsOf = options.filter((option) => option.meta.positional);
  const flags = options.filter((option) => !option.meta.positional);
  const usage = command.usage
    .replace(/^Usage: /, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('redis-playbook') || line.startsWith('(') || line.startsWith('['));
  const usageLines: string[] = [];
  for (const line of usage) {
    if (line.startsWith('redis-playbook')) usageLines.push(line);
    else usageLines.push(`${usageLines.pop() ?? ''} ${line}`);
  }
  const schema = z.toJSONSchema(command.json, { io: 'output' }) as Record<string, unknown>;
  const rows: string[] = [];
  fieldRows(schema, '', true, rows);
  const optionRow = (option: OptionInfo) => {
    const env = option.meta.env ? ` Environment: ${code(option.meta.env)}.` : '';
    return `| ${code(option.meta.positional ? `<${option.name}>` : optionLabel(option))} | ${defaultOf(option)} | ${mdx(option.meta.help)}${env} |`;
  };
  return [
    `## ${command.name}`,
    '',
    mdx(command.summary),
    '',
    ...usageLines.map((line) => `- \`${line}\``),
    '',
    ...(argumentsOf.length > 0 ? ['| Argument | Default | What it is |', '|---|---|---|', ...argumentsOf.map(optionRow), ''] : []),
    '| Option | Default | What it does |',
    '|---|---|---|',
    ...flags.map(optionRow),
    `| ${code('-h, --help')} |  | Show this help |`,
    '',
    `${code(`${command.name} --json`)} prints ${command.jsonLines ? 'one JSON object per line' : 'one JSON object'} (its JSON Schema is ${code(`schemas/${command.name}.schema.json`)} in the npm package):`,
    '',
    '| Field | Type | What it is |',
    '|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The whole page. */
export function cliReferencePage(): string {
  return `---
title: CLI reference
description: Every redis-playbook command with its options, defaults, environment variables, exit codes and the JSON its --json prints, generated from the CLI's own schemas.
sidebar:
  order: 3
---

This page is written from the CLI's own declarations (its option and \`--json\` schemas and its exit
codes), so it says what the CLI does. Each command's \`--help\` prints the same options with its full
description. Errors are one line on stderr; \`--json\` output goes to stdout, progress to stderr.
(In a checkout, \`npm run cli-reference\` writes this page; \`npm run lint\` fails when it is stale.)

## Environment

| Variable | Read by | What for |
|---|---|---|
${environmentRows().join('\n')}

## Exit codes

| Code | Kind | Meaning |
|---|---|---|
${exitCodes.map((entry) => `| ${entry.code} | ${code(entry.kind)} | ${mdx(entry.meaning)} |`).join('\n')}

${commands.map(commandSection).join('\n\n')}
`;
}
