// What Go's net/http server (etcd 3.4.23: Go 1.19, http.Server with default limits) does with a
// request before any handler sees it, for the HTTP/1 half of the client port:
//  - the request head may take up to MaxHeaderBytes (1 MiB) + 4096 bytes of bufio slop; past that,
//    "431 Request Header Fields Too Large" (Node's own limit is 16 KiB);
//  - a head it cannot parse gets a bare "400 Bad Request", some with Go's reason after a colon
//    (missing or malformed Host, an invalid header value); a transfer encoding other than chunked
//    gets "501 Not Implemented"; each in Go's text/plain form, then the connection is closed.
// Measured side by side with etcd 3.4.23 (test/integration/bad-input.test.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Node's maxHeaderSize for the client port: Go's 1 MiB + 4096. Node counts the URL and the header
 * names and values, Go every byte of the head, so a head within a few bytes per line of the limit
 * can pass here where Go refuses it.
 */
export const GO_MAX_HEADER_BYTES = (1 << 20) + 4096;

const ERROR_HEADERS = '\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n';

/** Go's bare answer to a request it refuses: `status` is e.g. "400 Bad Request: malformed Host header". */
export function goErrorBytes(status: string, body = status): string {
  return `HTTP/1.1 ${status}${ERROR_HEADERS}${body}`;
}

/** httpguts.ValidHostHeader's bytes. */
const VALID_HOST = /^[A-Za-z0-9!$%&'()*+,\-.:;=[\]_~]*$/;

/** A Host header Go's server takes. */
export const goValidHost = (host: string): boolean => VALID_HOST.test(host);

/** The answer Go gives a parsed request before its handler, or undefined when it goes on. */
export function goRequestRefusal(req: IncomingMessage): string | undefined {
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hosts++;
  if (hosts === 0 && req.httpVersion === '1.1' && req.method !== 'CONNECT') return goErrorBytes('400 Bad Request: missing required Host header');
  if (hosts > 1) return goErrorBytes('400 Bad Request');
  if (hosts === 1 && !VALID_HOST.test(req.headers.host ?? '')) return goErrorBytes('400 Bad Request: malformed Host header');
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && te.toLowerCase() !== 'chunked') return goErrorBytes('501 Not Implemented', 'Unsupported transfer encoding');
  return undefined;
}

/** Write a refusal on the request's socket and close it, as Go does (no date, no CORS headers). */
export function goRefuse(res: ServerResponse, bytes: string): void {
  res.socket?.end(bytes);
}

/** Node's parse errors as Go answers them (fastify's clientErrorHandler). */
export function goClientError(err: NodeJS.ErrnoException & { reason?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let bytes: string;
  if (err.code === 'HPE_HEADER_OVERFLOW') bytes = goErrorBytes('431 Request Header Fields Too Large');
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') bytes = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n'; // Node's own; Go has no such limit
  else if (/header value char/i.test(err.reason ?? err.message)) bytes = goErrorBytes('400 Bad Request: invalid header value');
  else bytes = goErrorBytes('400 Bad Request');
  if (socket.writable) socket.end(bytes);
  else socket.destroy();
}
