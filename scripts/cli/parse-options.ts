import type { z } from 'zod';
import { PlaybookError } from '../procedures/errors.ts';

/**
 * Validates parsed option values against a command's schema; the first problem becomes a usage
 * error naming the option and the value given: `Invalid --timeout "abc": expected a number of milliseconds`.
 */
export function parseOptions<T extends z.ZodType>(schema: T, values: Record<string, unknown>): z.infer<T> {
  const result = schema.safeParse(values);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = String(issue?.path[0] ?? '');
  const given = values[name];
  const got = given === undefined ? '' : ` ${JSON.stringify(given)}`;
  throw new PlaybookError('usage', `Invalid --${name}${got}: ${issue?.message ?? 'invalid value'}`, { cause: result.error });
}
