/*
 * Writing responses the way etcd's Go HTTP server frames them: a body of at most GO_CHUNKING_BYTES
 * goes out with Content-Length, a longer one chunked (Go buffers 2048 bytes before it starts
 * chunking); 405s are Go's http.Error text with an Allow list; unclean paths get Go's ServeMux 301.
 */
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { V2Error, goJsonString } from '../../v2store/index.js';
import type { V2HeaderInfo } from '../../server/facade.js';
import { toErrorInfo } from '../v3/errors.js';

/** Go's net/http response buffer: bodies longer than this are sent chunked. */
export const GO_CHUNKING_BYTES = 2048;

/** Sends `body` with `status`, framed as Go would (Content-Length up to 2048 bytes, else chunked). */
export function sendBody(reply: FastifyReply, status: number, body: string): FastifyReply {
  reply.code(status);
  const bytes = Buffer.from(body); // a Buffer: fastify appends no charset to the Content-Type
  return reply.send(bytes.length > GO_CHUNKING_BYTES ? Readable.from([bytes]) : bytes);
}

/**
 * A JSON body (application/json, no charset). The hot path (/v2/keys answers up to 2048 bytes) is
 * written straight to the socket with the headers gathered so far (CORS, cluster id, indexes),
 * skipping fastify's send pipeline.
 */
export function sendJson(reply: FastifyReply, status: number, body: string): FastifyReply {
  const bytes = Buffer.from(body);
  if (bytes.length > GO_CHUNKING_BYTES) return sendBody(reply.header('Content-Type', 'application/json'), status, body);
  const headers = goHeaders(reply.getHeaders());
  headers['Content-Type'] = 'application/json';
  headers['Content-Length'] = bytes.length;
  reply.hijack();
  reply.raw.writeHead(status, headers);
  reply.raw.end(bytes);
  return reply;
}

const canonicalNames = new Map<string, string>();

/** Go's canonical header name (x-etcd-index → X-Etcd-Index), as Go's server prints header names. */
export function canonicalHeaderName(name: string): string {
  let c = canonicalNames.get(name);
  if (c === undefined) {
    c = name.toLowerCase().split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-');
    if (canonicalNames.size < 256) canonicalNames.set(name, c);
  }
  return c;
}

/** The headers of a reply with Go's canonical names. */
export function goHeaders(h: Record<string, unknown>): Record<string, string | number | string[]> {
  const out: Record<string, string | number | string[]> = {};
  for (const k in h) {
    const v = h[k];
    if (v !== undefined) out[canonicalHeaderName(k)] = v as string | number | string[];
  }
  return out;
}

/** Go's http.Error(w, "Method Not Allowed", 405), with `Allow` when given. */
export function methodNotAllowed(reply: FastifyReply, allow?: string): FastifyReply {
  if (allow !== undefined) reply.header('Allow', allow);
  return reply
    .code(405)
    .header('Content-Type', 'text/plain; charset=utf-8')
    .header('X-Content-Type-Options', 'nosniff')
    .send('Method Not Allowed\n');
}

export function clusterIdHex(h: V2HeaderInfo): string {
  return h.clusterId.toString(16);
}

/**
 * A /v2/keys error: a V2Error as etcd writes it (X-Etcd-Index, its status, body + "\n"); anything
 * else (raft timeout, stopping) is etcd's 300 "Raft Internal Error" with the error text, status 500.
 */
export function sendKeysError(reply: FastifyReply, err: unknown): FastifyReply {
  const e = err instanceof V2Error ? err : new V2Error(300, toErrorInfo(err).message, 0);
  reply.header('X-Etcd-Index', String(e.index));
  return sendJson(reply, e.httpStatus(), `${e.serialize()}\n`);
}

/** A JSON {"message": …} answer of the members and stats handlers (httptypes.HTTPError). */
export function sendMessage(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).header('Content-Type', 'application/json').send(Buffer.from(`{"message":${goJsonString(message)}}`));
}

function isUnreserved(c: string): boolean {
  return /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c);
}

/** Go's URL.EscapedPath for a decoded path (what ServeMux puts in a redirect). */
export function escapePath(p: string): string {
  let out = '';
  for (const ch of p) {
    if (isUnreserved(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Go's ServeMux answer to an unclean path: 301 to the cleaned one (query kept). */
export function redirectClean(reply: FastifyReply, method: string, cleaned: string, rawQuery: string | undefined): FastifyReply {
  const loc = escapePath(cleaned) + (rawQuery === undefined || rawQuery === '' ? '' : `?${rawQuery}`);
  reply.code(301).header('Location', loc);
  if (method !== 'GET' && method !== 'HEAD') return reply.header('Content-Length', '0').send();
  const href = loc.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
  return reply.header('Content-Type', 'text/html; charset=utf-8').send(`<a href="${href}">Moved Permanently</a>.\n\n`);
}

/** Go's path cleaning as ServeMux applies it (a trailing slash is kept). */
export function goCleanPath(p: string): string {
  if (p === '') return '/';
  const abs = p.startsWith('/') ? p : `/${p}`;
  const out: string[] = [];
  for (const seg of abs.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  let np = `/${out.join('/')}`;
  if (p.endsWith('/') && np !== '/') np += '/';
  return np;
}

/** Go's url.PathUnescape-like decoding of a request path ("+" kept); undefined for a bad escape. */
export function unescapePath(raw: string): string | undefined {
  if (!raw.includes('%') && !/[\x80-\xff]/.test(raw)) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 37) {
      const h = raw.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return undefined;
      bytes.push(parseInt(h, 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes).toString('utf8');
}
