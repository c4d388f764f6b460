/**
 * A command's parts as a page carries them (Snippet.astro's `data-parts`), and the command text for
 * the reader's own values, shell-quoted exactly as `fillCommand` (scripts/snippets/placeholders.ts)
 * quotes them. Shared by the build (encode) and the browser (decode, render).
 */
import type { CommandPart } from '../../scripts/data/placeholders.ts';
import { shellQuote } from '../../scripts/core/shell-quote.ts';

/** `[text]`: literal text; `[placeholder, text]`: a placeholder, filled with its documented default. */
export type EncodedPart = [text: string] | [placeholder: string, text: string];

/** The reader's values by placeholder name; a missing or empty value means "the documented default". */
export type SetupValues = Partial<Record<string, string>>;

/** The compact JSON of a command's parts (from `commandParts(command, {}, flavor)`). */
export function encodeParts(parts: CommandPart[]): string {
  return JSON.stringify(parts.map((part): EncodedPart => ('placeholder' in part ? [part.placeholder, part.text] : [part.text])));
}

/** Parses {@link encodeParts}' JSON; throws on anything else. */
export function decodeParts(json: string): EncodedPart[] {
  const parts: unknown = JSON.parse(json);
  const valid =
    Array.isArray(parts) &&
    parts.every(
      (part) => Array.isArray(part) && (part.length === 1 || part.length === 2) && part.every((text) => typeof text === 'string'),
    );
  if (!valid) throw new Error(`Not a command's parts: ${json}`);
  return parts as EncodedPart[];
}

/** The text of each part: the reader's value, shell-quoted, where one is set; the part's default text elsewhere. */
export function partTexts(parts: EncodedPart[], values: SetupValues): string[] {
  return parts.map((part) => {
    if (part.length === 1) return part[0];
    const value = values[part[0]];
    return value ? shellQuote(value) : part[1];
  });
}
