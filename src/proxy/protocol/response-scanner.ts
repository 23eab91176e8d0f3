/**
 * Finds where an upstream response ends while its bytes are relayed verbatim (the passthrough
 * is a raw relay, never decoded and re-encoded). It reads frame headers and only the few packets that decide the
 * response's shape (first packet, EOF/OK terminators, ERR); rows and column definitions are
 * skipped without being copied, so relaying a large result costs no per-row allocation.
 *
 * Response shapes (per command):
 * - `query`/`execute`: OK | ERR | column count, definitions, [EOF], rows, EOF/OK — repeated while
 *   the terminator carries SERVER_MORE_RESULTS_EXISTS; an EOF with CURSOR_EXISTS ends it early.
 *   A result may instead be a LOCAL INFILE request (0xFB, file name): the client then sends the
 *   file, and upstream's OK/ERR for it follows ({@link ResponseScanner.localInfileSent}).
 * - `fetch`: rows, EOF/OK | ERR.   `field-list`: definitions, EOF | ERR.
 * - `prepare`: PREPARE_OK, parameter definitions, [EOF], column definitions, [EOF] | ERR.
 * - `single`: exactly one packet (OK, ERR, EOF, or COM_STATISTICS' string).
 */
import { MAX_FRAME, Status } from './constants.js';
import { okStatus } from './generic-response.js';

export type ResponseKind = 'query' | 'execute' | 'fetch' | 'field-list' | 'prepare' | 'single';

/** What the session learns from a response while it streams by. */
export interface ResponseListener {
  /** An OK packet (header 0x00, or the 0xFE terminator under DEPRECATE_EOF). */
  onOk(payload: Buffer): void;
  /** Status flags of an EOF packet. */
  onEof(status: number): void;
  onErr(payload: Buffer): void;
  onPrepareOk(payload: Buffer): void;
  /** A LOCAL INFILE request: the client's next packets are the file, up to an empty packet. */
  onLocalInfile?(payload: Buffer): void;
}

const enum S {
  Idle,
  First,
  Columns,
  ColumnsEof,
  Rows,
  FieldList,
  PrepParams,
  PrepParamsEof,
  PrepColumns,
  PrepColumnsEof,
  /** Upstream asked for a local file and waits for the client's packets. */
  Infile,
}

/** Payloads larger than this are never captured (terminators and first packets are tiny). */
const CAPTURE_LIMIT = 1 << 20;

export class ResponseScanner {
  readonly #listener: ResponseListener;
  #deprecateEof = false;
  #kind: ResponseKind = 'single';
  #state = S.Idle;
  #count = 0;
  #prepColumns = 0;
  // frame parsing
  #hdr = Buffer.alloc(4);
  #hdrFill = 0;
  #remaining = 0;
  #frameLen = 0;
  #inFrame = false;
  #firstPending = false;
  #continuation = false;
  #frameIsContinuation = false;
  #prepParamsTotal = 0;
  /**
   * The captured packet's bytes: at {@link #captureAt} in the chunk that holds it whole (a view:
   * no Buffer is made unless a listener takes the payload), or a copy gathered across chunks (at 0).
   */
  #capture: Buffer | null = null;
  #captureAt = 0;
  #captureFill = 0;
  #captureView = false;
  #captureFirst = 0;
  #lastSeq = 0;
  #ended = false;

  constructor(listener: ResponseListener) {
    this.#listener = listener;
  }

  /** True while a response is expected or streaming. */
  get active(): boolean {
    return this.#state !== S.Idle;
  }

  /** Sequence id of the last frame seen. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Expects the response to a command of `kind`. */
  begin(kind: ResponseKind, deprecateEof: boolean): void {
    this.#kind = kind;
    this.#deprecateEof = deprecateEof;
    this.#state = kind === 'fetch' ? S.Rows : kind === 'field-list' ? S.FieldList : S.First;
  }

  /** The client's file (after a LOCAL INFILE request) has been sent up: upstream's OK/ERR follows. */
  localInfileSent(): void {
    if (this.#state === S.Infile) this.#state = S.First;
  }

  /**
   * Scans a chunk. Returns the offset just past the response's last byte when the response ends
   * inside this chunk, else -1. Bytes arriving while idle are ignored (and return -1).
   */
  feed(chunk: Buffer): number {
    let pos = 0;
    this.#ended = false;
    while (pos < chunk.length && this.#state !== S.Idle) {
      if (!this.#inFrame) {
        if (this.#hdrFill === 0 && chunk.length - pos >= 4) {
          // The usual case, a whole header in the chunk: read in place.
          this.#frameLen = chunk[pos] | (chunk[pos + 1] << 8) | (chunk[pos + 2] << 16);
          this.#lastSeq = chunk[pos + 3];
          pos += 4;
        } else {
          const n = Math.min(4 - this.#hdrFill, chunk.length - pos);
          chunk.copy(this.#hdr, this.#hdrFill, pos, pos + n);
          this.#hdrFill += n;
          pos += n;
          if (this.#hdrFill < 4) break;
          this.#hdrFill = 0;
          this.#frameLen = this.#hdr.readUIntLE(0, 3);
          this.#lastSeq = this.#hdr[3];
        }
        this.#remaining = this.#frameLen;
        this.#inFrame = true;
        this.#frameIsContinuation = this.#continuation;
        this.#continuation = this.#frameLen === MAX_FRAME;
        this.#firstPending = !this.#frameIsContinuation;
        this.#capture = null;
        if (this.#frameLen === 0) {
          this.#inFrame = false;
          if (!this.#frameIsContinuation) this.#packet(-1, EMPTY, 0);
          if (this.#ended) return pos;
        }
        continue;
      }
      if (this.#firstPending) {
        this.#firstPending = false;
        const first = chunk[pos];
        if (this.#wants(first, this.#frameLen)) {
          // A packet wholly inside this chunk is viewed, not copied.
          if (chunk.length - pos >= this.#remaining) {
            this.#capture = chunk;
            this.#captureAt = pos;
            this.#captureView = true;
          } else {
            this.#capture = Buffer.allocUnsafe(this.#frameLen);
            this.#captureAt = 0;
            this.#captureView = false;
          }
          this.#captureFill = 0;
        } else {
          this.#capture = null;
        }
        this.#captureFirst = first;
      }
      if (this.#frameIsContinuation) this.#capture = null;
      const n = Math.min(this.#remaining, chunk.length - pos);
      if (this.#capture && !this.#captureView) chunk.copy(this.#capture, this.#captureFill, pos, pos + n);
      this.#captureFill += n;
      this.#remaining -= n;
      pos += n;
      if (this.#remaining === 0) {
        this.#inFrame = false;
        const captured = this.#capture;
        this.#capture = null;
        this.#captureFill = 0;
        // Only a packet's first frame drives the state machine; continuation frames are row data.
        if (!this.#frameIsContinuation) this.#packet(this.#captureFirst, captured, this.#captureAt);
        if (this.#ended) return pos;
      }
    }
    return -1;
  }

  #isTerminator(first: number, len: number): boolean {
    return first === 0xfe && (this.#deprecateEof ? len < MAX_FRAME : len < 9);
  }

  #wants(first: number, len: number): boolean {
    if (len > CAPTURE_LIMIT) return false;
    switch (this.#state) {
      case S.First:
      case S.ColumnsEof:
      case S.PrepParamsEof:
      case S.PrepColumnsEof:
        return true;
      case S.Rows:
      case S.FieldList:
        return first === 0xff || this.#isTerminator(first, len);
      case S.Infile:
        return first === 0xff;
      default:
        return false;
    }
  }

  #end(): void {
    this.#state = S.Idle;
    this.#ended = true;
  }

  #afterResult(status: number): void {
    if (status & Status.MORE_RESULTS_EXISTS) this.#state = S.First;
    else this.#end();
  }

  /**
   * A packet's first frame ended: `first` is its first byte; `bytes` holds its payload of
   * {@link #frameLen} bytes at `at`, or is null when it was not captured.
   */
  #packet(first: number, bytes: Buffer | null, at: number): void {
    const len = this.#frameLen;
    switch (this.#state) {
      case S.First: {
        if (this.#kind === 'single') {
          if (first === 0x00 && bytes) this.#listener.onOk(payloadOf(bytes, at, len));
          else if (first === 0xff && bytes) this.#listener.onErr(payloadOf(bytes, at, len));
          else if (first === 0xfe && bytes && len < 9) this.#listener.onEof(eofStatusAt(bytes, at, len));
          this.#end();
          return;
        }
        if (first === 0xff) {
          if (bytes) this.#listener.onErr(payloadOf(bytes, at, len));
          this.#end();
          return;
        }
        if (this.#kind === 'prepare') {
          if (first !== 0x00 || !bytes || len < 9) {
            this.#end();
            return;
          }
          this.#listener.onPrepareOk(payloadOf(bytes, at, len));
          const numColumns = bytes.readUInt16LE(at + 5);
          const numParams = bytes.readUInt16LE(at + 7);
          this.#prepColumns = numColumns;
          this.#prepParamsTotal = numParams;
          this.#count = numParams;
          this.#state = S.PrepParams;
          this.#advancePrepare();
          return;
        }
        if (first === 0x00 && bytes) {
          const payload = payloadOf(bytes, at, len);
          this.#listener.onOk(payload);
          this.#afterResult(okStatus(payload));
          return;
        }
        if (first === 0xfb && bytes) {
          this.#state = S.Infile;
          this.#listener.onLocalInfile?.(payloadOf(bytes, at, len));
          return;
        }
        if (!bytes) {
          // A first packet too large to be a column count: garbage, the response is over for us.
          this.#end();
          return;
        }
        // A count below 0xfb is its first byte (almost every result); a longer one is read from its payload.
        this.#count = first >= 0 && first < 0xfb ? first : columnCount(payloadOf(bytes, at, len));
        this.#state = S.Columns;
        if (this.#count === 0) this.#afterColumns();
        return;
      }
      case S.Columns:
        if (--this.#count <= 0) this.#afterColumns();
        return;
      case S.ColumnsEof: {
        const status = bytes ? eofStatusAt(bytes, at, len) : 0;
        this.#listener.onEof(status);
        if (status & Status.CURSOR_EXISTS && this.#kind === 'execute') this.#end();
        else this.#state = S.Rows;
        return;
      }
      case S.Rows:
        if (first === 0xff) {
          if (bytes) this.#listener.onErr(payloadOf(bytes, at, len));
          this.#end();
        } else if (bytes && this.#isTerminator(first, len)) {
          let status: number;
          if (this.#deprecateEof) {
            const payload = payloadOf(bytes, at, len);
            status = okStatus(payload);
            this.#listener.onOk(payload);
          } else {
            status = eofStatusAt(bytes, at, len);
            this.#listener.onEof(status);
          }
          if (this.#kind === 'fetch') this.#end();
          else this.#afterResult(status);
        }
        return;
      case S.FieldList:
        if (first === 0xff && bytes) this.#listener.onErr(payloadOf(bytes, at, len));
        if (first === 0xff || (bytes && this.#isTerminator(first, len))) this.#end();
        return;
      case S.PrepParams:
        this.#count--;
        this.#advancePrepare();
        return;
      case S.PrepParamsEof:
        this.#count = this.#prepColumns;
        this.#state = S.PrepColumns;
        this.#advancePrepare();
        return;
      case S.PrepColumns:
        this.#count--;
        this.#advancePrepare();
        return;
      case S.PrepColumnsEof:
        this.#end();
        return;
      case S.Infile:
        // Upstream speaks before the file is complete only to fail (e.g. the session was killed).
        if (first === 0xff) {
          if (bytes) this.#listener.onErr(payloadOf(bytes, at, len));
          this.#end();
        }
        return;
      case S.Idle:
        return;
    }
  }

  #afterColumns(): void {
    this.#state = this.#deprecateEof ? S.Rows : S.ColumnsEof;
  }

  /** Moves through the prepare response's parameter and column sections as counts run out. */
  #advancePrepare(): void {
    if (this.#state === S.PrepParams && this.#count <= 0) {
      if (this.#prepParamsTotal > 0 && !this.#deprecateEof) {
        this.#state = S.PrepParamsEof;
        return;
      }
      this.#count = this.#prepColumns;
      this.#state = S.PrepColumns;
    }
    if (this.#state === S.PrepColumns && this.#count <= 0) {
      if (this.#prepColumns > 0 && !this.#deprecateEof) this.#state = S.PrepColumnsEof;
      else this.#end();
    }
  }
}

/** A payload of zero bytes. */
const EMPTY = Buffer.alloc(0);

/** The payload of `len` bytes at `at` in `bytes`, as a Buffer of its own (a view when it is part of a chunk). */
function payloadOf(bytes: Buffer, at: number, len: number): Buffer {
  return at === 0 && bytes.length === len ? bytes : bytes.subarray(at, at + len);
}

/** An EOF packet's status flags, as eofStatus reads them from its payload (0 when too short). */
function eofStatusAt(bytes: Buffer, at: number, len: number): number {
  return len >= 5 ? bytes.readUInt16LE(at + 3) : 0;
}

function columnCount(payload: Buffer): number {
  const b = payload[0];
  if (b < 0xfb) return b;
  if (b === 0xfc) return payload.readUInt16LE(1);
  if (b === 0xfd) return payload.readUIntLE(1, 3);
  return Number(payload.readBigUInt64LE(1));
}
