/**
 * MySQL/MariaDB protocol constants: capability flags, commands, server status flags and column
 * types, as the client/server protocol documents them (include/mysql_com.h).
 */

/** Capability flags (the lower 32 bits; MariaDB's extended flags are never advertised). */
export const Cap = {
  LONG_PASSWORD: 0x1,
  FOUND_ROWS: 0x2,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  NO_SCHEMA: 0x10,
  COMPRESS: 0x20,
  ODBC: 0x40,
  LOCAL_FILES: 0x80,
  IGNORE_SPACE: 0x100,
  PROTOCOL_41: 0x200,
  INTERACTIVE: 0x400,
  SSL: 0x800,
  IGNORE_SIGPIPE: 0x1000,
  TRANSACTIONS: 0x2000,
  RESERVED: 0x4000,
  SECURE_CONNECTION: 0x8000,
  MULTI_STATEMENTS: 0x10000,
  MULTI_RESULTS: 0x20000,
  PS_MULTI_RESULTS: 0x40000,
  PLUGIN_AUTH: 0x80000,
  CONNECT_ATTRS: 0x100000,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x200000,
  CAN_HANDLE_EXPIRED_PASSWORDS: 0x400000,
  SESSION_TRACK: 0x800000,
  DEPRECATE_EOF: 0x1000000,
} as const;

/**
 * Capabilities never passed through from upstream's handshake: compression (unsupported: the relay
 * is byte for byte) and SSL (offered to clients only with Rotor's own certificate).
 */
export const UNSUPPORTED_CAPS = Cap.COMPRESS | Cap.SSL;

/** MariaDB's extended capabilities (the upper 32 bits), as numbers relative to bit 32. */
export const MariaCap = {
  PROGRESS: 0x1,
  COM_MULTI: 0x2,
  STMT_BULK_OPERATIONS: 0x4,
  EXTENDED_METADATA: 0x8,
  CACHE_METADATA: 0x10,
  BULK_UNIT_RESULTS: 0x20,
} as const;

/**
 * The MariaDB capabilities a session may negotiate: the others change response shapes Rotor
 * does not follow (progress packets, metadata caching, per-row bulk results).
 */
export const SUPPORTED_MARIADB_CAPS = MariaCap.STMT_BULK_OPERATIONS | MariaCap.EXTENDED_METADATA;

/** Command bytes (the first byte of a client's command packet). */
export const Com = {
  SLEEP: 0x00,
  QUIT: 0x01,
  INIT_DB: 0x02,
  QUERY: 0x03,
  FIELD_LIST: 0x04,
  CREATE_DB: 0x05,
  DROP_DB: 0x06,
  REFRESH: 0x07,
  SHUTDOWN: 0x08,
  STATISTICS: 0x09,
  PROCESS_INFO: 0x0a,
  CONNECT: 0x0b,
  PROCESS_KILL: 0x0c,
  DEBUG: 0x0d,
  PING: 0x0e,
  CHANGE_USER: 0x11,
  STMT_PREPARE: 0x16,
  STMT_EXECUTE: 0x17,
  STMT_SEND_LONG_DATA: 0x18,
  STMT_CLOSE: 0x19,
  STMT_RESET: 0x1a,
  SET_OPTION: 0x1b,
  STMT_FETCH: 0x1c,
  RESET_CONNECTION: 0x1f,
  /** MariaDB's COM_STMT_BULK_EXECUTE (with MARIADB_CLIENT_STMT_BULK_OPERATIONS). */
  STMT_BULK_EXECUTE: 0xfa,
} as const;

/** Server status flags carried by OK and EOF packets. */
export const Status = {
  IN_TRANS: 0x1,
  AUTOCOMMIT: 0x2,
  MORE_RESULTS_EXISTS: 0x8,
  NO_GOOD_INDEX_USED: 0x10,
  NO_INDEX_USED: 0x20,
  CURSOR_EXISTS: 0x40,
  LAST_ROW_SENT: 0x80,
  DB_DROPPED: 0x100,
  NO_BACKSLASH_ESCAPES: 0x200,
  METADATA_CHANGED: 0x400,
  QUERY_WAS_SLOW: 0x800,
  PS_OUT_PARAMS: 0x1000,
  IN_TRANS_READONLY: 0x2000,
  SESSION_STATE_CHANGED: 0x4000,
} as const;

/** Column types (enum_field_types). */
export const Type = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

/** Column flag: UNSIGNED. */
export const UNSIGNED_FLAG = 0x20;
/** Column flag: ZEROFILL (a YEAR column has it too): the text protocol pads the number with zeros to the column's length. */
export const ZEROFILL_FLAG = 0x40;

/** The width a column's numbers are zero-padded to in the text protocol (its length under ZEROFILL), else 0. */
export function zerofillWidth(c: { readonly flags: number; readonly columnLength: number }): number {
  return (c.flags & ZEROFILL_FLAG) !== 0 ? c.columnLength : 0;
}
/** Collation id 63: binary. */
export const BINARY_CHARSET = 63;
/** The largest payload one frame carries; a payload of exactly this size continues in the next. */
export const MAX_FRAME = 0xffffff;
