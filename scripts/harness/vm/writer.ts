/**
 * Writes `SET key:<n> <ms>` (n = 1, 2, …; the value is when it was sent, in ms since the first write)
 * over one connection, with up to {@link WINDOW} commands in flight, and counts the `+OK` replies: a
 * reply is an acknowledged write. One connection answers in order, so the acknowledged writes are
 * exactly key:1 … key:<acknowledged>. Plain RESP over a socket, so that no reply is lost to a client
 * library's batching when the connection dies.
 */
import { connect, type Socket } from 'node:net';

/** Commands in flight at most: enough to keep the server busy, few enough to stop soon after the cut. */
const WINDOW = 256;

const OK = '+OK\r\n';

function setCommand(key: string, value: string): string {
  return `*3\r\n$3\r\nSET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n$${Buffer.byteLength(value)}\r\n${value}\r\n`;
}

/** The key of the n-th write. */
export function writeKey(n: number): string {
  return `key:${n}`;
}

/** A running writer. */
export class Writer {
  #socket: Socket;
  #sent = 0;
  #acknowledged = 0;
  #pending = '';
  #started = 0;
  /** When each write was sent (index n - 1), ms since the first. */
  readonly sentAt: number[] = [];
  #failure: Error | undefined;
  readonly #closed: Promise<void>;

  constructor(port: number) {
    this.#socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.#socket.setEncoding('utf8');
    this.#closed = new Promise((resolve) =>
      this.#socket.once('close', () => {
        resolve();
      }),
    );
    this.#socket.on('error', () => {
      // The cut resets the connection: expected, and the count stops there.
    });
    this.#socket.once('connect', () => {
      this.#started = performance.now();
      this.#pump();
    });
    this.#socket.on('data', (chunk: string) => {
      this.#onData(chunk);
    });
  }

  /** Replies received so far. */
  get acknowledged(): number {
    return this.#acknowledged;
  }

  /** ms since the first write was sent. */
  get elapsedMs(): number {
    return this.#started === 0 ? 0 : performance.now() - this.#started;
  }

  #pump(): void {
    if (this.#socket.destroyed || this.#failure) return;
    let batch = '';
    while (this.#sent - this.#acknowledged < WINDOW) {
      const n = ++this.#sent;
      const at = Math.round(performance.now() - this.#started);
      this.sentAt.push(at);
      batch += setCommand(writeKey(n), String(at));
    }
    if (batch) this.#socket.write(batch);
  }

  #onData(chunk: string): void {
    this.#pending += chunk;
    let replies = 0;
    while (this.#pending.startsWith(OK, replies * OK.length)) replies++;
    const rest = this.#pending.slice(replies * OK.length);
    this.#acknowledged += replies;
    this.#pending = rest;
    if (rest.length >= OK.length || (rest.length > 0 && !OK.startsWith(rest))) {
      this.#failure = new Error(`The server answered a SET with something other than +OK: ${JSON.stringify(rest.slice(0, 200))}`);
      this.#socket.destroy();
      return;
    }
    this.#pump();
  }

  /** Resolves when the connection is gone (after the cut), with the final count; throws when a write was refused. */
  async closed(): Promise<number> {
    await this.#closed;
    if (this.#failure) throw this.#failure;
    return this.#acknowledged;
  }

  /** Closes the connection (after a failure elsewhere). */
  destroy(): void {
    this.#socket.destroy();
  }
}
