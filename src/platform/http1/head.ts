// The head of one HTTP/1.1 request, read from the front of a connection's buffered bytes, for the
// client port's JavaScript HTTP/1.1 (connection.ts). It reads only the plain case and says 'other'
// for anything else, which then goes to node:http with its bytes as they came:
//
//   GET /v2/keys/foo HTTP/1.1\r\n          request line: METHOD SP /path-and-query SP HTTP/1.1, the
//   Host: 127.0.0.1:2379\r\n               URL printable ASCII; header lines "Name: value" (a token,
//   Content-Length: 9\r\n                   then printable ASCII or tab), CRLF line ends, at most
//   \r\n                                    HEAD_BYTES_MAX bytes; a body only by Content-Length
//
// 'other': HTTP/1.0 and other versions, bare-LF line ends, folded or odd headers, Transfer-Encoding,
// Expect, Upgrade, a Connection other than keep-alive or close, repeated Host, Content-Length,
// Content-Type, Authorization or Connection, a head over HEAD_BYTES_MAX.

/** The longest head read here; a longer one (up to Go's 1 MiB) is node:http's. */
export const HEAD_BYTES_MAX = 16 * 1024;

export interface RequestHead {
  readonly method: string;
  /** The request target as sent ("/v2/keys/foo?recursive=true"). */
  readonly url: string;
  readonly host: string | undefined;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly contentLength: number;
  /** Connection: close was asked for. */
  readonly close: boolean;
  /** Bytes of the head, the empty line included: the body starts here. */
  readonly headBytes: number;
}

export type HeadResult = RequestHead | 'more' | 'other';

const END = Buffer.from('\r\n\r\n', 'latin1');
const REQUEST_LINE = /^([A-Z]+) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[\t\x20-\x7e]*$/;

/** A bare LF in `buf` before `end` (a line end node:http reads and we do not). */
function hasBareLf(buf: Buffer, end: number): boolean {
  for (let i = buf.indexOf(10); i >= 0 && i < end; i = buf.indexOf(10, i + 1)) if (i === 0 || buf[i - 1] !== 13) return true;
  return false;
}

/** The request head at the start of `buf`: parsed, 'more' (incomplete) or 'other' (node:http's). */
export function parseHead(buf: Buffer): HeadResult {
  const end = buf.indexOf(END);
  if (end < 0) return buf.length > HEAD_BYTES_MAX || hasBareLf(buf, buf.length) ? 'other' : 'more';
  if (end + 4 > HEAD_BYTES_MAX || hasBareLf(buf, end)) return 'other';
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]!);
  if (m === null) return 'other';
  let host: string | undefined;
  let contentType: string | undefined;
  let authorization: string | undefined;
  let length: string | undefined;
  let connection: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return 'other';
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!TOKEN.test(name) || !VALUE.test(value)) return 'other';
    switch (name.toLowerCase()) {
      case 'host': if (host !== undefined) return 'other'; host = value; break;
      case 'content-type': if (contentType !== undefined) return 'other'; contentType = value; break;
      case 'authorization': if (authorization !== undefined) return 'other'; authorization = value; break;
      case 'content-length': if (length !== undefined) return 'other'; length = value; break;
      case 'connection': if (connection !== undefined) return 'other'; connection = value.toLowerCase(); break;
      case 'transfer-encoding': case 'expect': case 'upgrade': return 'other';
      default:
    }
  }
  if (length !== undefined && !/^[0-9]{1,15}$/.test(length)) return 'other';
  if (connection !== undefined && connection !== 'keep-alive' && connection !== 'close') return 'other';
  return {
    method: m[1]!, url: m[2]!, host, contentType, authorization,
    contentLength: length === undefined ? 0 : Number(length), close: connection === 'close', headBytes: end + 4,
  };
}
