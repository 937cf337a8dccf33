// HTTP/2 frames (RFC 9113 section 4 and 6): types, flags, error codes and the 9-byte frame header.

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const DATA = 0x0;
export const HEADERS = 0x1;
export const PRIORITY_FRAME = 0x2;
export const RST_STREAM = 0x3;
export const SETTINGS = 0x4;
export const PUSH_PROMISE = 0x5;
export const PING = 0x6;
export const GOAWAY = 0x7;
export const WINDOW_UPDATE = 0x8;
export const CONTINUATION = 0x9;

export const END_STREAM = 0x1;
export const ACK = 0x1;
export const END_HEADERS = 0x4;
export const PADDED = 0x8;
export const PRIORITY = 0x20;

export const NO_ERROR = 0x0;
export const PROTOCOL_ERROR = 0x1;
export const INTERNAL_ERROR = 0x2;
export const FLOW_CONTROL_ERROR = 0x3;
export const STREAM_CLOSED = 0x5;
export const FRAME_SIZE_ERROR = 0x6;
export const REFUSED_STREAM = 0x7;
export const CANCEL = 0x8;
export const COMPRESSION_ERROR = 0x9;
export const ENHANCE_YOUR_CALM = 0xb;

export const SETTINGS_HEADER_TABLE_SIZE = 0x1;
export const SETTINGS_ENABLE_PUSH = 0x2;
export const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
export const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
export const SETTINGS_MAX_FRAME_SIZE = 0x5;
export const SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

/** The default SETTINGS_MAX_FRAME_SIZE and the least a peer may set. */
export const DEFAULT_FRAME_MAX = 16_384;
/** The default SETTINGS_INITIAL_WINDOW_SIZE, and every connection window's start. */
export const DEFAULT_WINDOW = 65_535;
/** The largest flow-control window (2^31 - 1). */
export const WINDOW_LIMIT = 2 ** 31 - 1;

/** Write a frame header at `p`; returns where the payload starts. */
export function writeFrameHeader(b: Buffer, p: number, len: number, type: number, flags: number, sid: number): number {
  b[p] = len >>> 16;
  b[p + 1] = (len >>> 8) & 0xff;
  b[p + 2] = len & 0xff;
  b[p + 3] = type;
  b[p + 4] = flags;
  b.writeUInt32BE(sid, p + 5);
  return p + 9;
}

/** One frame with `payload` (copied). */
export function frame(type: number, flags: number, sid: number, payload?: Buffer): Buffer {
  const n = payload?.length ?? 0;
  const b = Buffer.allocUnsafe(9 + n);
  const p = writeFrameHeader(b, 0, n, type, flags, sid);
  payload?.copy(b, p);
  return b;
}

/** A frame whose payload is one 32-bit value (RST_STREAM, WINDOW_UPDATE). */
export function frameU32(type: number, sid: number, v: number): Buffer {
  const b = Buffer.allocUnsafe(13);
  writeFrameHeader(b, 0, 4, type, 0, sid);
  b.writeUInt32BE(v >>> 0, 9);
  return b;
}

/** GOAWAY with the last stream id processed and an error code (and optional debug text). */
export function goawayFrame(lastId: number, code: number, debug = ''): Buffer {
  const d = Buffer.from(debug, 'latin1');
  const b = Buffer.allocUnsafe(17 + d.length);
  writeFrameHeader(b, 0, 8 + d.length, GOAWAY, 0, 0);
  b.writeUInt32BE(lastId, 9);
  b.writeUInt32BE(code, 13);
  d.copy(b, 17);
  return b;
}

/** A SETTINGS frame of [id, value] pairs. */
export function settingsFrame(pairs: readonly (readonly [number, number])[]): Buffer {
  const b = Buffer.allocUnsafe(9 + 6 * pairs.length);
  let p = writeFrameHeader(b, 0, 6 * pairs.length, SETTINGS, 0, 0);
  for (const [id, v] of pairs) {
    b.writeUInt16BE(id, p);
    b.writeUInt32BE(v >>> 0, p + 2);
    p += 6;
  }
  return b;
}
