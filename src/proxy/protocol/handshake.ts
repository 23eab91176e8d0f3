/**
 * Connection-phase messages: the server's Handshake v10, the client's HandshakeResponse41 (and its
 * short SSLRequest form), and AuthSwitchRequest.
 */
import { Cap } from './constants.js';
import { MalformedPacket, PacketReader } from './packet-reader.js';
import { PacketWriter } from './packet-writer.js';
import { encodingOf } from './value-codec.js';

export interface ServerHandshake {
  /** As sent, e.g. `5.5.5-10.11.19-MariaDB-0+deb12u1-log`. */
  readonly serverVersion: string;
  readonly connectionId: number;
  /** The 20-byte nonce (both auth-plugin-data parts, without the trailing NUL). */
  readonly scramble: Buffer;
  readonly capabilities: number;
  readonly charset: number;
  readonly status: number;
  readonly authPlugin: string;
  /** MariaDB's extended capabilities (0 when the server announces itself as MySQL). */
  readonly mariadbCapabilities: number;
}

export function decodeServerHandshake(payload: Buffer): ServerHandshake {
  const r = new PacketReader(payload);
  const protocol = r.u8();
  if (protocol !== 10) throw new Error(`unsupported handshake protocol ${protocol}`);
  const serverVersion = r.nulString('latin1');
  const connectionId = r.u32();
  const part1 = r.bytes(8);
  r.skip(1);
  let capabilities = r.u16();
  const charset = r.remaining > 0 ? r.u8() : 0;
  const status = r.remaining > 0 ? r.u16() : 0;
  capabilities |= (r.remaining > 0 ? r.u16() : 0) << 16;
  capabilities >>>= 0;
  const authDataLen = r.remaining > 0 ? r.u8() : 0;
  let mariadbCapabilities = 0;
  if (r.remaining >= 10) {
    r.skip(6);
    const ext = r.u32();
    if (!(capabilities & Cap.LONG_PASSWORD)) mariadbCapabilities = ext;
  }
  let part2: Buffer = Buffer.alloc(0);
  if (capabilities & Cap.SECURE_CONNECTION) {
    const n = Math.max(13, authDataLen - 8);
    part2 = r.bytes(Math.min(n, r.remaining));
    if (part2.length > 0 && part2[part2.length - 1] === 0) part2 = part2.subarray(0, part2.length - 1);
  }
  const authPlugin = capabilities & Cap.PLUGIN_AUTH && r.remaining > 0 ? r.nulOrRestString('latin1') : 'mysql_native_password';
  return {
    serverVersion, connectionId, scramble: Buffer.concat([part1, part2]), capabilities,
    charset, status, authPlugin, mariadbCapabilities,
  };
}

/** Handshake v10 as Rotor sends it (sequence id 0, one packet). */
export function encodeServerHandshake(h: ServerHandshake): Buffer {
  const w = new PacketWriter(128).begin(0);
  w.u8(10).nulString(h.serverVersion, 'latin1').u32(h.connectionId);
  w.bytes(h.scramble.subarray(0, 8)).u8(0);
  w.u16(h.capabilities & 0xffff).u8(h.charset).u16(h.status).u16(h.capabilities >>> 16);
  w.u8(h.capabilities & Cap.PLUGIN_AUTH ? h.scramble.length + 1 : 0);
  w.zeros(6).u32(h.capabilities & Cap.LONG_PASSWORD ? 0 : h.mariadbCapabilities);
  if (h.capabilities & Cap.SECURE_CONNECTION) w.bytes(h.scramble.subarray(8)).u8(0);
  if (h.capabilities & Cap.PLUGIN_AUTH) w.nulString(h.authPlugin, 'latin1');
  return w.end().finish();
}

export interface HandshakeResponse {
  readonly capabilities: number;
  readonly maxPacket: number;
  readonly charset: number;
  readonly mariadbCapabilities: number;
  readonly user: string;
  readonly authResponse: Buffer;
  readonly database: string | null;
  readonly authPlugin: string | null;
  /** The raw connection-attributes block (without its length), or null. */
  readonly attributes: Buffer | null;
}

/** True when the payload is a 32-byte SSLRequest (the client wants STARTTLS). */
export function isSslRequest(payload: Buffer): boolean {
  return payload.length === 32 && (payload.readUInt32LE(0) & Cap.SSL) !== 0;
}

/**
 * Looks for an SSLRequest at the start of the bytes a client sent after Rotor's handshake:
 * `'more'` while too few bytes arrived to tell, `'no'` when they are a plain handshake response,
 * else the bytes that follow the request (the start of the TLS ClientHello, possibly empty).
 */
export function takeSslRequest(buf: Buffer): 'more' | 'no' | { readonly rest: Buffer } {
  if (buf.length >= 3 && buf.readUIntLE(0, 3) !== 32) return 'no';
  if (buf.length < 36) return 'more';
  return isSslRequest(buf.subarray(4, 36)) ? { rest: buf.subarray(36) } : 'no';
}

/**
 * SSLRequest with sequence id `seq`: the first 32 bytes of a HandshakeResponse41, CLIENT_SSL set.
 * The TLS handshake follows it; the full response is then sent inside TLS with the next sequence id.
 */
export function encodeSslRequest(h: Pick<HandshakeResponse, 'capabilities' | 'maxPacket' | 'charset' | 'mariadbCapabilities'>, seq: number): Buffer {
  const caps = (h.capabilities | Cap.SSL) >>> 0;
  const w = new PacketWriter(40).begin(seq);
  w.u32(caps).u32(h.maxPacket).u8(h.charset).zeros(19).u32(caps & Cap.LONG_PASSWORD ? 0 : h.mariadbCapabilities);
  return w.end().finish();
}

/**
 * The user and database names are in the client's character set (its `charset` byte), as MariaDB
 * reads them: decoded with it, and encoded back with it, they reach upstream byte for byte.
 */
export function decodeHandshakeResponse(payload: Buffer): HandshakeResponse {
  const r = new PacketReader(payload);
  const capabilities = r.u32();
  if (!(capabilities & Cap.PROTOCOL_41)) throw new MalformedPacket('pre-4.1 clients are not supported');
  const maxPacket = r.u32();
  const charset = r.u8();
  r.skip(19);
  const ext = r.u32();
  const mariadbCapabilities = capabilities & Cap.LONG_PASSWORD ? 0 : ext;
  const names = encodingOf(charset);
  const user = r.nulString(names);
  let authResponse: Buffer;
  if (capabilities & Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA) authResponse = r.lenencBytes();
  else if (capabilities & Cap.SECURE_CONNECTION) authResponse = r.bytes(r.u8());
  else authResponse = Buffer.from(r.nulString('latin1'), 'latin1');
  const database = capabilities & Cap.CONNECT_WITH_DB && r.remaining > 0 ? r.nulOrRestString(names) : null;
  const authPlugin = capabilities & Cap.PLUGIN_AUTH && r.remaining > 0 ? r.nulOrRestString('latin1') : null;
  const attributes = capabilities & Cap.CONNECT_ATTRS && r.remaining > 0 ? r.lenencBytes() : null;
  return { capabilities: capabilities >>> 0, maxPacket, charset, mariadbCapabilities, user, authResponse, database, authPlugin, attributes };
}

/**
 * HandshakeResponse41 with sequence id `seq`, in the form its capability flags call for. An auth
 * response the form cannot carry (over 255 bytes with a one-byte length, or holding a NUL when
 * NUL-terminated; a client's auth switch answer can be either) throws {@link MalformedPacket}
 * rather than being sent upstream with a wrapped length.
 */
export function encodeHandshakeResponse(h: HandshakeResponse, seq: number): Buffer {
  const caps = h.capabilities;
  const w = new PacketWriter(256).begin(seq);
  w.u32(caps).u32(h.maxPacket).u8(h.charset).zeros(19).u32(caps & Cap.LONG_PASSWORD ? 0 : h.mariadbCapabilities);
  const names = encodingOf(h.charset);
  w.nulString(h.user, names);
  if (caps & Cap.PLUGIN_AUTH_LENENC_CLIENT_DATA) {
    w.lenencBytes(h.authResponse);
  } else if (caps & Cap.SECURE_CONNECTION) {
    if (h.authResponse.length > 0xff) throw new MalformedPacket(`an auth response of ${h.authResponse.length} bytes needs a length-encoded field`);
    w.u8(h.authResponse.length).bytes(h.authResponse);
  } else {
    if (h.authResponse.includes(0)) throw new MalformedPacket('an auth response with a NUL cannot be NUL-terminated');
    w.bytes(h.authResponse).u8(0);
  }
  if (caps & Cap.CONNECT_WITH_DB) w.nulString(h.database ?? '', names);
  if (caps & Cap.PLUGIN_AUTH) w.nulString(h.authPlugin ?? 'mysql_native_password', 'latin1');
  if (caps & Cap.CONNECT_ATTRS) w.lenencBytes(h.attributes ?? Buffer.alloc(0));
  return w.end().finish();
}

/** AuthSwitchRequest: asks the client to answer `data` with `plugin`. */
export function encodeAuthSwitch(plugin: string, data: Buffer, seq: number): Buffer {
  return new PacketWriter(64).begin(seq).u8(0xfe).nulString(plugin, 'latin1').bytes(data).u8(0).end().finish();
}
