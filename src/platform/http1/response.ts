// A whole HTTP/1.1 response as node:http's ServerResponse writes it for writeHead(status, headers)
// then end(body), so that answers from connection.ts are byte for byte those of node:http:
//
//   HTTP/1.1 200 OK\r\n                      status text from http.STATUS_CODES
//   X-Etcd-Index: 4\r\n                      the given headers in the given order, arrays one line each
//   Content-Length: 88\r\n
//   Connection: keep-alive\r\n               or "Connection: close" (no Keep-Alive line)
//   Keep-Alive: timeout=72\r\n               node's keepAliveTimeout in whole seconds
//   Transfer-Encoding: chunked\r\n           only without Content-Length (not for 204 and 304)
//   \r\n
//   body                                     chunked: "<hex size>\r\n" body "\r\n0\r\n\r\n"
//
// Date is not added: a caller wanting it passes it among the headers (node's sendDate off, or Date
// last, where node puts it).
import { STATUS_CODES } from 'node:http';

export type HeaderValue = string | number | readonly string[];

/** The response bytes; a string (the head is ASCII, the body UTF-8 as node writes a string body) or, for a Buffer body, a Buffer. */
export function formatResponse(
  status: number, headers: Readonly<Record<string, HeaderValue>>, body: string | Buffer, close: boolean, keepAliveS: number,
): string | Buffer {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
  let sized = false;
  for (const name in headers) {
    const v = headers[name]!;
    if (typeof v === 'object') for (const one of v) head += `${name}: ${one}\r\n`;
    else head += `${name}: ${v}\r\n`;
    if (name.length === 14 && name.toLowerCase() === 'content-length') sized = true;
  }
  head += close ? 'Connection: close\r\n' : keepAliveS > 0 ? `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveS}\r\n` : 'Connection: keep-alive\r\n';
  const chunked = !sized && status !== 204 && status !== 304;
  if (status === 204 || status === 304) body = '';
  if (chunked) head += 'Transfer-Encoding: chunked\r\n';
  head += '\r\n';
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (typeof body === 'string') {
    if (!chunked) return head + body;
    return length === 0 ? `${head}0\r\n\r\n` : `${head}${length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  }
  if (!chunked) return Buffer.concat([Buffer.from(head, 'latin1'), body]);
  if (length === 0) return `${head}0\r\n\r\n`;
  return Buffer.concat([Buffer.from(`${head}${length.toString(16)}\r\n`, 'latin1'), body, Buffer.from('\r\n0\r\n\r\n', 'latin1')]);
}

let dateSecond = -1;
let dateText = '';

/** The Date header (RFC 1123 in GMT, as Go and node write it): formatted once per second, not per response. */
export function httpDate(nowMs = Date.now()): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}
