/**
 * Reads what `redis-cli --no-raw` prints for one command (its "human" format, the same whether
 * stdout is a terminal or a pipe) back into the reply: strings are quoted with C escapes, so every
 * value is unambiguous, unlike the raw format where an array of one element looks like a string.
 *
 * | printed                    | reply                                |
 * |----------------------------|--------------------------------------|
 * | `"a\"b\n"`                 | string (escapes decoded, UTF-8)      |
 * | `OK`, `PONG` (unquoted)    | status string                        |
 * | `(integer) 42`             | number                               |
 * | `(nil)`                    | null                                 |
 * | `(error) ERR …`            | {@link RedisReplyError} (thrown at the top level) |
 * | `(empty array)`            | [] (also `(empty list or set)` before Redis 7)    |
 * | `1) …` `2) …`              | array; nested arrays are indented    |
 *
 * redis-cli prints the reply of a few commands (INFO, CLIENT LIST, …) raw even with `--no-raw`: take
 * their output as is instead.
 */

/** An error reply (`-ERR …`, `-NOAUTH …`): its text, as ioredis gives it in `message`. */
export class RedisReplyError extends Error {
  override name = 'RedisReplyError';
}

/** One reply as the procedures use it: the shapes ioredis gives for RESP2. */
export type CliReply = string | number | null | RedisReplyError | CliReply[];

const ESCAPES: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, a: 0x07, b: 0x08, '\\': 0x5c, '"': 0x22 };

/** Decodes a string quoted the way Redis's `sdscatrepr` quotes it (`"a\x00b\n"`). */
export function unquote(text: string): string {
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) throw new Error(`Not a quoted redis-cli string: ${text}`);
  const bytes: number[] = [];
  for (let i = 1; i < text.length - 1; i++) {
    const char = text[i] as string;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'latin1'));
      continue;
    }
    const next = text[i + 1] as string;
    if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      bytes.push(Number.parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (next in ESCAPES) {
      bytes.push(ESCAPES[next] as number);
      i += 1;
    } else {
      throw new Error(`Unknown escape \\${next} in redis-cli string: ${text}`);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function parseScalar(line: string): CliReply {
  if (line === '(nil)') return null;
  if (line === '(empty array)' || line === '(empty list or set)') return [];
  const integer = /^\(integer\) (-?\d+)$/.exec(line);
  if (integer) return Number(integer[1]);
  const double = /^\(double\) (\S+)$/.exec(line);
  if (double) return Number(double[1]);
  if (line.startsWith('(error) ')) return new RedisReplyError(line.slice('(error) '.length));
  if (line.startsWith('"')) return unquote(line);
  return line;
}

function parseLines(lines: string[]): CliReply {
  const first = lines[0] ?? '';
  const head = /^( *)(\d+)\) /.exec(first);
  if (!head) {
    if (lines.length !== 1) throw new Error(`Unexpected redis-cli output: ${lines.join('\\n').slice(0, 200)}`);
    return parseScalar(first);
  }
  // Indexes are right-aligned to the width of the largest one; continuation lines are indented past "N) ".
  const width = (head[1] as string).length + (head[2] as string).length;
  const indent = ' '.repeat(width + 2);
  const elements: string[][] = [];
  for (const line of lines) {
    const start = line.slice(0, width + 2);
    if (/^ *\d+\) $/.test(start) && start.length === width + 2) {
      elements.push([line.slice(width + 2)]);
    } else if (line.startsWith(indent) && elements.length > 0) {
      (elements.at(-1) as string[]).push(line.slice(width + 2));
    } else {
      throw new Error(`Unexpected redis-cli array line: ${line.slice(0, 200)}`);
    }
  }
  return elements.map(parseLines);
}

/** Parses the whole stdout of `redis-cli --no-raw COMMAND…` (one reply). */
export function parseCliReply(stdout: string): CliReply {
  const text = stdout.replace(/\r?\n$/, '');
  return parseLines(text.split('\n'));
}
