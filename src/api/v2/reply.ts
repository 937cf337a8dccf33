/*
 * Writing responses the way etcd's Go HTTP server frames them: canonical header names in sorted order,
 * then Date and Content-Length; a body of at most GO_CHUNKING_BYTES goes out with Content-Length, a
 * longer one chunked (Go buffers 2048 bytes before it starts chunking); 405s are Go's http.Error text
 * with an Allow list; unclean paths get Go's ServeMux 301.
 */
import type { ServerResponse } from 'node:http';
import type { Http1Response } from '../../platform/http1/connection.js';
import { httpDate } from '../../platform/http1/response.js';
import { V2Error, goJsonString } from '../../v2store/index.js';
import type { V2HeaderInfo } from '../../server/facade.js';
import { percentEncode } from '../../pkg/bytes.js';
import { toErrorInfo } from '../v3/errors.js';

/**
 * Where a v2 answer goes: a FastifyReply (members, stats) or a RawReply (/v2/keys, served before
 * fastify): the headers set so far, and the raw response written once fastify has let go.
 */
export interface GoReply {
  getHeaders(): Record<string, unknown>;
  header(name: string, value: string): unknown;
  hijack(): unknown;
  readonly raw: ServerResponse;
  /** Set when the answer goes out through the client port's JavaScript HTTP/1.1 (no `raw` then). */
  readonly http1?: Http1Response;
}

/** The headers part of a GoReply, starting with `base` headers (CORS). */
abstract class HeaderReply {
  private readonly headers: Record<string, unknown>;
  constructor(base: Readonly<Record<string, string>>) {
    this.headers = { ...base };
  }
  getHeaders(): Record<string, unknown> {
    return this.headers;
  }
  header(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }
  hijack(): void {}
}

/** A GoReply over a bare Node response, starting with `base` headers (CORS). */
export class RawReply extends HeaderReply implements GoReply {
  constructor(readonly raw: ServerResponse, base: Readonly<Record<string, string>>) {
    super(base);
  }
}

/** A GoReply over the JavaScript HTTP/1.1's response (platform/http1): whole answers only, no streaming. */
export class Http1Reply extends HeaderReply implements GoReply {
  constructor(readonly http1: Http1Response, base: Readonly<Record<string, string>>) {
    super(base);
  }
  get raw(): ServerResponse {
    throw new Error('no ServerResponse on the JavaScript HTTP/1.1');
  }
}

/** Go's net/http response buffer: bodies longer than this are sent chunked. */
export const GO_CHUNKING_BYTES = 2048;

const canonicalNames = new Map<string, string>();
const CANONICAL_NAMES_MAX = 256;

/** Go's canonical header name (x-etcd-index → X-Etcd-Index), as Go's server prints header names. */
export function canonicalHeaderName(name: string): string {
  let c = canonicalNames.get(name);
  if (c === undefined) {
    c = name.toLowerCase().split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-');
    if (canonicalNames.size < CANONICAL_NAMES_MAX) canonicalNames.set(name, c);
  }
  return c;
}

type HeaderValue = string | number | string[];

/** Where each header of goHeaders' answer comes from: its Go name, 0 = the reply's, 1 = extra, and its key there. */
type HeaderPlan = readonly (readonly [name: string, from: 0 | 1, key: string])[];
const headerPlans = new Map<string, HeaderPlan>();
const HEADER_PLANS_MAX = 256;

function makeHeaderPlan(h: Record<string, unknown>, extra: Record<string, HeaderValue>): HeaderPlan {
  const all = new Map<string, readonly [string, 0 | 1, string]>();
  for (const k in h) if (h[k] !== undefined) all.set(canonicalHeaderName(k), [canonicalHeaderName(k), 0, k]);
  for (const k in extra) all.set(k, [k, 1, k]);
  return [...all.keys()].sort().map((name) => all.get(name)!);
}

/**
 * The reply's headers plus `extra`, with Go's canonical names, sorted by name as Go writes them. The
 * order depends only on the names, so it is worked out once per set of names (a v2 GET used to pay
 * ~2 µs per answer for the map and the sort).
 */
export function goHeaders(h: Record<string, unknown>, extra: Record<string, HeaderValue> = {}): Record<string, HeaderValue> {
  let names = '';
  for (const k in h) if (h[k] !== undefined) names += `${k}\n`;
  names += '\0';
  for (const k in extra) names += `${k}\n`;
  let plan = headerPlans.get(names);
  if (plan === undefined) {
    plan = makeHeaderPlan(h, extra);
    if (headerPlans.size < HEADER_PLANS_MAX) headerPlans.set(names, plan);
  }
  const out: Record<string, HeaderValue> = {};
  for (const [name, from, key] of plan) out[name] = from === 0 ? (h[key] as HeaderValue) : extra[key]!;
  return out;
}

export { httpDate };

/**
 * Writes a complete response as Go's server frames it, straight to the socket (skipping fastify's send
 * pipeline): the headers so far (CORS, cluster id, …) and `extra`, canonical and sorted, then Date and
 * Content-Length; a body over GO_CHUNKING_BYTES goes out chunked, without Content-Length.
 */
export function writeGo<R extends GoReply>(reply: R, status: number, extra: Record<string, HeaderValue>, body: string | Buffer): R {
  // a string body goes to Node as it is (UTF-8): it joins the header block in one write, no Buffer made
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const headers = goHeaders(reply.getHeaders(), extra);
  headers['Date'] = httpDate();
  const http1 = reply.http1;
  // Go computes Content-Length for a short body, but not for an empty answer to HEAD
  const emptyHead = length === 0 && (http1 !== undefined ? http1.method : reply.raw.req?.method) === 'HEAD';
  if (length <= GO_CHUNKING_BYTES && status !== 204 && !emptyHead && headers['Content-Length'] === undefined) headers['Content-Length'] = length;
  reply.hijack();
  if (http1 !== undefined) {
    http1.end(status, headers, body);
    return reply;
  }
  const res = reply.raw;
  res.sendDate = false;
  res.writeHead(status, headers);
  res.end(body);
  return reply;
}

/** A JSON body: Content-Type application/json (no charset). */
export function sendJson<R extends GoReply>(reply: R, status: number, body: string): R {
  return writeGo(reply, status, { 'Content-Type': 'application/json' }, body);
}

/** Go's http.Error(w, "Method Not Allowed", 405), with `Allow` when given. */
export function methodNotAllowed<R extends GoReply>(reply: R, allow?: string): R {
  const extra: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' };
  if (allow !== undefined) extra['Allow'] = allow;
  return writeGo(reply, 405, extra, 'Method Not Allowed\n');
}

let lastClusterId: V2HeaderInfo['clusterId'] | undefined;
let lastClusterIdHex = '';

/** X-Etcd-Cluster-Id: the cluster id in hex (formatted once, not per request). */
export function clusterIdHex(h: V2HeaderInfo): string {
  if (h.clusterId !== lastClusterId) {
    lastClusterId = h.clusterId;
    lastClusterIdHex = h.clusterId.toString(16);
  }
  return lastClusterIdHex;
}

/**
 * A /v2/keys error: a V2Error as etcd writes it (X-Etcd-Index, its status, body + "\n"); anything
 * else (raft timeout, stopping) is etcd's 300 "Raft Internal Error" with the error text, status 500.
 */
export function sendKeysError<R extends GoReply>(reply: R, err: unknown): R {
  const e = err instanceof V2Error ? err : new V2Error(300, toErrorInfo(err).message, 0);
  return writeGo(reply, e.httpStatus(), { 'Content-Type': 'application/json', 'X-Etcd-Index': String(e.index) }, `${e.serialize()}\n`);
}

/** A JSON {"message": …} answer of the members and stats handlers (httptypes.HTTPError). */
export function sendMessage<R extends GoReply>(reply: R, status: number, message: string): R {
  return writeGo(reply, status, { 'Content-Type': 'application/json' }, `{"message":${goJsonString(message)}}`);
}

const UNRESERVED = /[A-Za-z0-9\-_.~$&+,/:;=@]/;
const isUnreserved = (b: number): boolean => UNRESERVED.test(String.fromCharCode(b));

/** Go's URL.EscapedPath for a decoded path (what ServeMux puts in a redirect). */
export function escapePath(p: string): string {
  return percentEncode(p, isUnreserved);
}

/**
 * Go's ServeMux answer to an unclean path: 301 to the cleaned one (query kept); http.Redirect writes
 * its HTML body for GET only (HEAD gets the Content-Type and no Content-Length).
 */
export function redirectClean<R extends GoReply>(reply: R, method: string, cleaned: string, rawQuery: string | undefined): R {
  const loc = escapePath(cleaned) + (rawQuery === undefined || rawQuery === '' ? '' : `?${rawQuery}`);
  if (method !== 'GET' && method !== 'HEAD') return writeGo(reply, 301, { Location: loc }, '');
  if (method === 'HEAD') return writeGo(reply, 301, { 'Content-Type': 'text/html; charset=utf-8', Location: loc }, '');
  const href = loc.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
  return writeGo(reply, 301, { 'Content-Type': 'text/html; charset=utf-8', Location: loc }, `<a href="${href}">Moved Permanently</a>.\n\n`);
}

/** Go's path cleaning as ServeMux applies it (a trailing slash is kept). */
export function goCleanPath(p: string): string {
  if (p === '') return '/';
  if (p.charCodeAt(0) === 47 && !p.includes('//') && !p.includes('/.')) return p; // already clean
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
