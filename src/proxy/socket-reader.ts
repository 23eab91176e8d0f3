/**
 * Reads an upstream socket into one buffer reused from read to read (the `onread` option of
 * `net.connect`), where a socket read as a stream makes a new Buffer for every read and passes it
 * through the stream's machinery (a 'data' event and a next-tick callback per read): on the relay's
 * path that is every response a statement gets.
 *
 * [note: read-buffer] A chunk handed to the sink is a view of that buffer, valid until the sink
 * returns: the sink MUST consume or copy whatever it keeps. The one exception is bytes written to
 * another socket: a write that did not complete at once keeps referring to them, so after every
 * chunk the reader asks `held()` and, when it says so, reads on into a new buffer, leaving the old
 * one to the write.
 */

/** As large as the buffer a socket read as a stream reads into. */
const READ_SIZE = 64 * 1024;

const NEVER = (): boolean => false;

export class SocketReader {
  #buffer = Buffer.allocUnsafe(READ_SIZE);
  #sink: ((chunk: Buffer) => void) | null = null;
  #held: () => boolean = NEVER;

  /**
   * For `net.connect({ onread })`: the buffer of the next read, and what a read calls (true: read
   * on; `pause()` stops the reads as on any socket).
   */
  readonly onread = {
    buffer: (): Buffer => this.#buffer,
    callback: (n: number): boolean => {
      this.#read(n);
      return true;
    },
  };

  /**
   * Sends the socket's bytes to `sink` from now on (null: drops them). `held` says whether the
   * bytes of the chunk just handed over may still be referred to (a write of them pending).
   * [note: read-buffer]
   */
  attach(sink: ((chunk: Buffer) => void) | null, held: () => boolean = NEVER): void {
    this.#sink = sink;
    this.#held = held;
  }

  #read(n: number): void {
    const sink = this.#sink;
    if (sink === null) return;
    try {
      sink(this.#buffer.subarray(0, n));
    } finally {
      if (this.#held()) this.#buffer = Buffer.allocUnsafe(READ_SIZE);
    }
  }
}
