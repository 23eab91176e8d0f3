/**
 * The responses Rotor writes itself, each encoded into one buffer for one `write()`
 * ([note: hot-path]): a cached answer (a result set in the text or binary protocol, an OK, an
 * ERR), and Rotor's own errors from the catalog (src/errors.ts) with their arguments filled in.
 * Upstream's own errors never pass through here: they are relayed unchanged.
 */
import { ERRORS, type ErrorCode } from '../errors.js';
import { Cap, MariaCap } from './protocol/constants.js';
import { writeErr, writeOk, type ErrPacket } from './protocol/generic-response.js';
import { PacketWriter } from './protocol/packet-writer.js';
import { encodeResultSetOnce } from './protocol/result-set.js';
import type { Answer } from './read-router.js';

/** What an answer's encoding depends on: the session's negotiated form. */
export interface AnswerForm {
  readonly caps: number;
  readonly mariadbCaps: number;
  /** The client's character set (the result's column definitions carry it). */
  readonly charset: number;
}

/**
 * A router's answer as the response to the command that asked (sequence ids from 1), reporting
 * `status` (SessionState.answerStatus). Throws when the answer cannot be encoded in this form: the
 * caller MUST then relay the statement instead. On the hit path ([note: hot-path]): no object is
 * built per answer but the encoder's options.
 */
export function encodeAnswer(a: Answer, binary: boolean, form: AnswerForm, status: number): Buffer {
  if (a.kind === 'rows') {
    return encodeResultSetOnce(a.columns, a.rows, {
      binary, deprecateEof: (form.caps & Cap.DEPRECATE_EOF) !== 0, statusFlags: status, startSeq: 1,
      extendedMetadata: (form.mariadbCaps & MariaCap.EXTENDED_METADATA) !== 0, resultCharset: form.charset,
    });
  }
  if (a.kind === 'ok') {
    const w = new PacketWriter(32);
    writeOk(w, { affectedRows: a.affectedRows, insertId: 0, status, warnings: 0, info: a.info }, 1);
    return w.finish();
  }
  return encodeErrPacket(a, 1);
}

/** One ERR packet. */
export function encodeErrPacket(err: ErrPacket, seq: number): Buffer {
  const w = new PacketWriter(64 + err.message.length);
  writeErr(w, err, seq);
  return w.finish();
}

/** A catalog error with its message template's `%s` filled from `args`, in order. */
export function catalogError(code: ErrorCode, args: ReadonlyArray<string | number> = []): ErrPacket {
  const spec = ERRORS[code];
  let i = 0;
  const message = spec.message.replace(/%s/g, () => String(args[i++] ?? ''));
  return { errno: spec.errno, sqlState: spec.sqlState, message };
}
