/*
 * The /v2/keys handler, served before fastify (see api/http's RawHandler: routing, hooks and body
 * parsing were a fifth of a v2 PUT's CPU): OPTIONS (etcd's CORS answer: 200, no body, any path) → Go
 * ServeMux path cleaning (301) → method check (405, Allow HEAD,GET,PUT,POST,DELETE) → X-Etcd-Cluster-Id →
 * r.ParseForm (210; a body over 10 MiB is "http: POST too large") → field checks (200-series) →
 * the v2 auth check (auth-access.ts; the read of /2/enabled is counted in /v2/stats/store; refused:
 * error 110, 401) → the facade: an event (200/201 + X-Etcd-Index,
 * X-Raft-Index, X-Raft-Term), a watch (200, headers flushed at once, one JSON event per line) or an
 * error. A watch ends after WATCH_TIMEOUT_MS as etcd's does (an empty 200 for a long poll).
 */
import type { EtcdMetrics } from '../../pkg/metrics.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { V2Facade } from '../../server/facade.js';
import { goBadRequest } from '../http/app.js';
import type { Socket } from 'node:net';
import { V2Error, V2ErrorCode, type V2Event, type V2Watcher } from '../../v2store/index.js';
import { V2AuthAccess } from './auth-access.js';
import { GoPanic, V2AuthStore } from './auth-store.js';
import { FORM_BODY_BYTES_MAX, parseForm } from './form.js';
import { parseKeysRequest, type ParsedKeysRequest } from './keys-request.js';
import type { Http1Request, Http1Response } from '../../platform/http1/connection.js';
import { clusterIdHex, goCleanPath, goHeaders, Http1Reply, methodNotAllowed, RawReply, redirectClean, sendKeysError, unescapePath, writeGo, type GoReply } from './reply.js';

/** etcd's defaultWatchTimeout: a watch request is answered (ended) after 5 minutes. */
export const WATCH_TIMEOUT_MS = 5 * 60 * 1000;
/** Bytes a watch response may have waiting for a slow client before the watch is ended. */
export const WATCH_WRITE_BUFFER_BYTES_MAX = 1 << 20;
const KEYS_PREFIX = '/v2/keys';
const UPDATE_ACTIONS = new Set(['set', 'compareAndSwap', 'create', 'update']);

export interface KeysOptions {
  readonly watchTimeoutMs?: number;
  readonly metrics?: EtcdMetrics;
  /** The v2 auth checks (shared with the other v2 handlers); a private one when absent. */
  readonly access?: V2AuthAccess;
}

/** Splits req.url into the decoded path and the raw query; undefined path for a bad escape. */
export function splitUrl(url: string): { path: string | undefined; rawQuery: string | undefined } {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  return { path: unescapePath(rawPath), rawQuery: q < 0 ? undefined : url.slice(q + 1) };
}

/** What the handler needs of a request: method, URL as sent, Content-Type and the body read. */
export interface KeysRequest {
  readonly method: string;
  readonly url: string;
  readonly contentType: string | undefined;
  readonly body: Buffer | undefined;
  /** The Authorization header, for v2 auth. */
  readonly authorization?: string;
  /** The connection, for v2 auth with --client-cert-auth. */
  readonly socket?: Socket;
}

const KEYS_METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'DELETE']);

function isKeysUrl(url: string): boolean {
  if (!url.startsWith(KEYS_PREFIX)) return false;
  const next = url.charCodeAt(KEYS_PREFIX.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

/**
 * The raw handler of /v2/keys[/…] (any method): reads a form body of POST, PUT and
 * PATCH (at most FORM_BODY_BYTES_MAX + 1 bytes are kept, so parseForm can say it is too large),
 * then answers. Returns false for any other request.
 */
export function keysHandler(facade: V2Facade, opts: KeysOptions = {}) {
  const serve = keysServer(facade, opts);
  return (req: IncomingMessage, res: ServerResponse, cors: Readonly<Record<string, string>>): boolean => {
    const url = req.url ?? '';
    const method = req.method ?? 'GET';
    if (!isKeysUrl(url)) return false;
    const reply = new RawReply(res, cors);
    req.on('error', () => {}); // a client gone mid-request: there is nobody to answer
    if (method === 'OPTIONS') {
      req.resume(); // the body, whatever its type, is not read (fastify's parsers would refuse some)
      if (splitUrl(url).path === undefined) badRequestLine(reply);
      else writeGo(reply, 200, {}, '');
      return true;
    }
    const destroy = (): void => void res.destroy();
    const answer = (body: Buffer | undefined): void => {
      const request: KeysRequest = {
        method, url, contentType: req.headers['content-type'], body, authorization: req.headers.authorization, socket: req.socket,
      };
      serve(request, reply, () => res.headersSent, destroy);
    };
    if (hasFormBody(method)) readBody(req, FORM_BODY_BYTES_MAX + 1, answer);
    else answer(undefined);
    return true;
  };
}

const hasFormBody = (method: string): boolean => method === 'POST' || method === 'PUT' || method === 'PATCH';
const HTTP1_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'PATCH']);

/**
 * The /v2/keys handler on the client port's JavaScript HTTP/1.1 (platform/http1): GET, PUT, POST,
 * DELETE and PATCH answered whole; a watch (wait=true), HEAD, OPTIONS and anything else declined
 * (false, nothing done) for node:http and keysHandler.
 */
export function keysHttp1Handler(facade: V2Facade, opts: KeysOptions = {}) {
  const serve = keysServer(facade, opts);
  return (req: Http1Request, res: Http1Response, cors: Readonly<Record<string, string>>): boolean => {
    if (!HTTP1_METHODS.has(req.method) || !isKeysUrl(req.url)) return false;
    const reply = new Http1Reply(res, cors);
    const request: KeysRequest = {
      method: req.method, url: req.url, contentType: req.contentType, body: hasFormBody(req.method) ? req.body : undefined,
      authorization: req.authorization, socket: req.socket,
    };
    return serve(request, reply, () => res.sent, () => res.destroy()) !== HAND_OFF;
  };
}

/** What handleKeys returns for a watch asked of a reply that cannot stream: nothing done, node:http's. */
const HAND_OFF = Symbol('hand off');

type KeysServe = (request: KeysRequest, reply: GoReply, headersSent: () => boolean, destroy: () => void) => unknown;

/** Answers one parsed /v2/keys request on `reply`; a bug costs this request only, never the member. */
function keysServer(facade: V2Facade, opts: KeysOptions): KeysServe {
  const watchTimeoutMs = opts.watchTimeoutMs ?? WATCH_TIMEOUT_MS;
  const metrics = opts.metrics;
  const access = opts.access ?? new V2AuthAccess(new V2AuthStore(facade), false);
  return (request, reply, headersSent, destroy) => {
    // (what Go's server answers a panic with, closing the connection, closes it here)
    const fail = (err: unknown): void => void (headersSent() || err instanceof GoPanic ? destroy() : sendKeysError(reply, err));
    try {
      const out = handleKeys(facade, watchTimeoutMs, metrics, access, request, reply);
      if (out instanceof Promise) out.catch(fail);
      return out;
    } catch (err) {
      fail(err);
      return undefined;
    }
  };
}

/** The request body, keeping at most `keep` bytes (the rest is read and dropped). */
export function readBody(req: IncomingMessage, keep: number, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  req.on('data', (c: Buffer) => {
    if (kept >= keep) return;
    chunks.push(c);
    kept += c.length;
  });
  req.on('end', () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

function handleKeys(facade: V2Facade, watchTimeoutMs: number, metrics: EtcdMetrics | undefined, access: V2AuthAccess,
  request: KeysRequest, reply: GoReply): unknown {
  const started = performance.now();
  const method = request.method;
  const { path, rawQuery } = splitUrl(request.url);
  if (path === undefined) return badRequestLine(reply);
  const cleaned = goCleanPath(path);
  if (cleaned !== path) return redirectClean(reply, method, cleaned, rawQuery);
  if (!KEYS_METHODS.has(method)) return methodNotAllowed(reply, 'HEAD,GET,PUT,POST,DELETE');
  reply.header('X-Etcd-Cluster-Id', clusterIdHex(facade.v2Header()));
  const parsedForm = parseForm(method, rawQuery ?? '', request.contentType, request.body);
  if ('error' in parsedForm) return sendKeysError(reply, new V2Error(210, parsedForm.error, 0));
  let parsed: ParsedKeysRequest;
  try {
    parsed = parseKeysRequest(method, path.slice(KEYS_PREFIX.length) || '/', parsedForm.form);
  } catch (err) {
    return sendKeysError(reply, err);
  }
  if (parsed.wait && reply.http1 !== undefined) return HAND_OFF;
  // etcd's hasKeyPrefixAccess: the path as requested, after "/v2/keys"
  const allowed = access.hasKeyPrefixAccess(request, path.slice(KEYS_PREFIX.length), parsed.req.recursive);
  if (allowed === true) return proceed(facade, watchTimeoutMs, metrics, parsed, reply, started);
  if (allowed === false) return sendKeysError(reply, noAuth());
  return allowed.then((ok) => (ok ? proceed(facade, watchTimeoutMs, metrics, parsed, reply, started) : sendKeysError(reply, noAuth())));
}

/** etcd's writeKeyNoAuth: error 110, 401. */
const noAuth = (): V2Error => new V2Error(V2ErrorCode.Unauthorized, 'Insufficient credentials', 0);

function proceed(facade: V2Facade, watchTimeoutMs: number, metrics: EtcdMetrics | undefined, parsed: ParsedKeysRequest,
  reply: GoReply, started: number): unknown {
  // etcd's etcd_http_* count requests parsed (a quorum GET as QGET), and time the successful non-watches
  const counts = metrics?.v2Requests(parsed.req.method === 'GET' && parsed.req.quorum ? 'QGET' : parsed.req.method);
  counts?.received.inc();
  if (parsed.wait) return startWatch(facade, parsed, watchTimeoutMs, reply);
  return facade.v2Keys(parsed.req).then(
    (ev) => {
      counts?.succeeded.observe((performance.now() - started) / 1000);
      return sendEvent(facade, reply, ev, parsed.noValueOnSuccess);
    },
    (err: unknown) => sendKeysError(reply, err),
  );
}

/**
 * A request line Go's server cannot parse (bad path escape): its bare 400, then the connection closed.
 * The HTTP app answers these before any handler; this covers the handler's own check.
 */
function badRequestLine(reply: GoReply): GoReply {
  reply.hijack();
  goBadRequest(reply.raw);
  return reply;
}

function sendEvent(facade: V2Facade, reply: GoReply, ev: V2Event, noValueOnSuccess: boolean): GoReply {
  const h = facade.v2Header();
  const status = ev.isCreated() ? 201 : 200;
  const body = noValueOnSuccess && UPDATE_ACTIONS.has(ev.action) ? `{"action":"${ev.action}"}` : ev.serialize();
  return writeGo(reply, status, {
    'Content-Type': 'application/json', 'X-Etcd-Index': String(ev.etcdIndex), 'X-Raft-Index': String(h.raftIndex), 'X-Raft-Term': String(h.raftTerm),
  }, `${body}\n`);
}

function startWatch(facade: V2Facade, parsed: ParsedKeysRequest, timeoutMs: number, reply: GoReply): GoReply {
  let watcher: V2Watcher;
  try {
    watcher = facade.v2Watch(parsed.req.key, { recursive: parsed.req.recursive, stream: parsed.stream, sinceIndex: parsed.waitIndex });
  } catch (err) {
    return sendKeysError(reply, err);
  }
  const h = facade.v2Header();
  const headers = goHeaders(reply.getHeaders(), {
    'Content-Type': 'application/json',
    'X-Etcd-Index': String(watcher.startIndex),
    'X-Raft-Index': String(h.raftIndex),
    'X-Raft-Term': String(h.raftTerm),
  });
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, headers);
  res.flushHeaders();
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    watcher.remove();
    if (!res.writableEnded) res.end();
  };
  const timer = setTimeout(finish, timeoutMs);
  res.once('close', finish);
  watcher.setListener((ev) => {
    if (done) return;
    if (ev === undefined) return finish();
    res.write(`${ev.serialize()}\n`);
    // a client that does not read: end its stream, as etcd ends a watcher whose queue overflows
    if (!parsed.stream || res.writableLength > WATCH_WRITE_BUFFER_BYTES_MAX) finish();
  });
  return reply;
}
