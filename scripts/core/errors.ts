import { exitCodeFor, type ErrorKind } from './exit-codes.ts';

/** Options of a {@link PlaybookError}. */
export interface PlaybookErrorOptions {
  /** The underlying error (a socket error, a Redis reply error…), kept for debugging. */
  cause?: unknown;
  /** The Redis command or program that failed, without secrets ("CONFIG GET save"). */
  command?: string;
}

/**
 * The one error type of the procedures and the CLI: a message an operator can act on (one line,
 * never a password), the kind of failure and its documented exit code, and the original cause.
 */
export class PlaybookError extends Error {
  override name = 'PlaybookError';
  readonly kind: ErrorKind;
  readonly exitCode: number;
  readonly command: string | undefined;

  constructor(kind: ErrorKind, message: string, options: PlaybookErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.exitCode = exitCodeFor(kind);
    this.command = options.command;
  }
}

/** `error` and its causes, outermost first (at most ten deep: a cycle of causes ends there). */
export function* causeChain(error: unknown): Generator<Error> {
  let cause = error;
  for (let depth = 0; cause instanceof Error && depth < 10; depth++) {
    yield cause;
    cause = cause.cause;
  }
}
