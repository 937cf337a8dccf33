// The first request line of a plain (non-TLS) HTTP/1 connection, judged as etcd 3.4's cmux judges it
// (soheilhy/cmux v0.1.4 HTTP1(), built with Go 1.19) before Go's http.Server sees the connection:
// the line must end within the first 4096 bytes and read "METHOD URI HTTP/1.x" (two spaces, Go's
// ParseHTTPVersion, major 1); anything else matches no listener and cmux closes the connection
// without an answer. So a request line carrying a 4-16 KB URL is refused where Node alone would
// serve it, and random bytes get no "400 Bad Request".
//
// How the close looks: cmux first reads at most 24 bytes (its HTTP/2 preface matcher), then, unless
// a newline is in them, whatever has arrived up to 4096 bytes; closing with bytes still unread makes
// the kernel reset the connection. resetLikeCmux tells which of the two a client would see.
import type * as net from 'node:net';

/** cmux reads the first line through a 4096-byte bufio.Reader over a 4096-byte LimitedReader. */
export const CMUX_LINE_BYTES = 4096;
const PREFACE_READ = 24;

export type LineVerdict = 'http1' | 'refuse' | 'more';

/** The verdict on a connection's first bytes: serve as HTTP/1, refuse, or wait for more. */
export function firstLineVerdict(buf: Buffer): LineVerdict {
  const nl = buf.indexOf(10);
  if (nl < 0 || nl >= CMUX_LINE_BYTES) return buf.length >= CMUX_LINE_BYTES ? 'refuse' : 'more';
  const end = nl > 0 && buf[nl - 1] === 13 ? nl - 1 : nl;
  return isHttp1RequestLine(buf.toString('latin1', 0, end)) ? 'http1' : 'refuse';
}

/** cmux's parseRequestLine and http.ParseHTTPVersion (Go 1.19): "A B HTTP/1.x", x one digit. */
export function isHttp1RequestLine(line: string): boolean {
  const s1 = line.indexOf(' ');
  const s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
  if (s2 < 0) return false;
  const proto = line.slice(s2 + 1);
  return /^HTTP\/1\.[0-9]$/.test(proto);
}

/** Whether cmux would have left bytes unread (the client then sees a reset rather than a close). */
export function resetLikeCmux(buf: Buffer): boolean {
  const first = Math.min(buf.length, PREFACE_READ);
  const nl = buf.indexOf(10);
  const consumed = nl >= 0 && nl < first ? first : Math.min(buf.length, CMUX_LINE_BYTES);
  return buf.length > consumed;
}

/** Close a refused connection as cmux does: reset when it would leave bytes unread, else a plain close. */
export function closeLikeCmux(socket: net.Socket, buf: Buffer): void {
  if (resetLikeCmux(buf) && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}
