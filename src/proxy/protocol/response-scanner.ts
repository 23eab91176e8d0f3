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
import { eofStatus, okStatus } from './generic-response.js';

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
  #capture: Buffer | null = null;
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
          if (!this.#frameIsContinuation) this.#packet(-1, Buffer.alloc(0));
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
            this.#capture = chunk.subarray(pos, pos + this.#remaining);
            this.#captureView = true;
          } else {
            this.#capture = Buffer.allocUnsafe(this.#frameLen);
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
        if (!this.#frameIsContinuation) this.#packet(this.#captureFirst, captured);
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

  #packet(first: number, payload: Buffer | null): void {
    const len = this.#frameLen;
    switch (this.#state) {
      case S.First: {
        if (this.#kind === 'single') {
          if (first === 0x00 && payload) this.#listener.onOk(payload);
          else if (first === 0xff && payload) this.#listener.onErr(payload);
          else if (first === 0xfe && payload && len < 9) this.#listener.onEof(eofStatus(payload));
          this.#end();
          return;
        }
        if (first === 0xff) {
          if (payload) this.#listener.onErr(payload);
          this.#end();
          return;
        }
        if (this.#kind === 'prepare') {
          if (first !== 0x00 || !payload || payload.length < 9) {
            this.#end();
            return;
          }
          this.#listener.onPrepareOk(payload);
          const numColumns = payload.readUInt16LE(5);
          const numParams = payload.readUInt16LE(7);
          this.#prepColumns = numColumns;
          this.#prepParamsTotal = numParams;
          this.#count = numParams;
          this.#state = S.PrepParams;
          this.#advancePrepare();
          return;
        }
        if (first === 0x00 && payload) {
          this.#listener.onOk(payload);
          this.#afterResult(okStatus(payload));
          return;
        }
        if (first === 0xfb && payload) {
          this.#state = S.Infile;
          this.#listener.onLocalInfile?.(payload);
          return;
        }
        if (!payload) {
          // A first packet too large to be a column count: garbage, the response is over for us.
          this.#end();
          return;
        }
        this.#count = columnCount(payload);
        this.#state = S.Columns;
        if (this.#count === 0) this.#afterColumns();
        return;
      }
      case S.Columns:
        if (--this.#count <= 0) this.#afterColumns();
        return;
      case S.ColumnsEof: {
        const status = payload ? eofStatus(payload) : 0;
        this.#listener.onEof(status);
        if (status & Status.CURSOR_EXISTS && this.#kind === 'execute') this.#end();
        else this.#state = S.Rows;
        return;
      }
      case S.Rows:
        if (first === 0xff) {
          if (payload) this.#listener.onErr(payload);
          this.#end();
        } else if (payload && this.#isTerminator(first, len)) {
          const status = this.#deprecateEof ? okStatus(payload) : eofStatus(payload);
          if (this.#deprecateEof) this.#listener.onOk(payload);
          else this.#listener.onEof(status);
          if (this.#kind === 'fetch') this.#end();
          else this.#afterResult(status);
        }
        return;
      case S.FieldList:
        if (first === 0xff && payload) this.#listener.onErr(payload);
        if (first === 0xff || (payload && this.#isTerminator(first, len))) this.#end();
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
          if (payload) this.#listener.onErr(payload);
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

function columnCount(payload: Buffer): number {
  const b = payload[0];
  if (b < 0xfb) return b;
  if (b === 0xfc) return payload.readUInt16LE(1);
  if (b === 0xfd) return payload.readUIntLE(1, 3);
  return Number(payload.readBigUInt64LE(1));
}
