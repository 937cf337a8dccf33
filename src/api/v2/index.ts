/*
 * api/v2: etcd 3.4's v2 HTTP API for the client port's HTTP app, only with --enable-v2 (without it
 * etcd's 404 page answers): v2Api(facade) gives a fastify plugin (createHttpApp's `plugins`) for
 * members, machines and stats, and raw handlers (`rawHandlers`) for /v2/keys, the hot path, and
 * /v2/auth, which are served before fastify's routing and body parsing.
 *
 * Routes: /v2/keys[/…] (GET HEAD PUT POST DELETE), /v2/members[/…], /v2/machines, /v2/stats/{self,
 * leader,store}, /v2/auth/{enable,users[/…],roles[/…]} (auth-http.ts). /version, /health and CORS
 * headers are the HTTP app's.
 *
 * Wire format (observed on etcd 3.4.23; every body below ends with "\n" except stats and machines):
 *   PUT /v2/keys/foo  value=bar  (query or x-www-form-urlencoded body, Go's ParseForm: body first)
 *   201  Content-Type: application/json  X-Etcd-Cluster-Id: dc50b8daae93b3e0  X-Etcd-Index: 4
 *        X-Raft-Index: 5  X-Raft-Term: 2
 *   {"action":"set","node":{"key":"/foo","value":"bar","modifiedIndex":4,"createdIndex":4}}
 *   GET /v2/keys/foo?prevIndex=x → 400 X-Etcd-Index: 0
 *   {"errorCode":203,"message":"The given index in POST form is not a number","cause":"invalid value for \"prevIndex\"","index":0}
 *   GET /v2/keys/a/../b → 301 Location: /v2/keys/b ;  PATCH → 405 Allow: HEAD,GET,PUT,POST,DELETE
 *
 * Contract: the lead passes v2Api(facade)'s `plugin`, `keys` and `auth` to createHttpApp, and
 * `keysHttp1` to api/http's http1Handler (the same requests on the client port's JavaScript HTTP/1.1). Per /v2/keys
 * request the handler parses and validates the form (200-series errors, nothing proposed), checks v2
 * auth (facade.v2AuthProbe() once; while v2 auth is on, the request's user and roles: 401 error 110),
 * then calls facade.v2Keys (reads and writes) or facade.v2Watch (wait=true), and writes the event or
 * error; V2Error → its code/status/index, any other rejection → 300 "Raft Internal Error" (500) with
 * etcd's text of the error. Watches hold the connection open (stream=true: one event per line) for at
 * most WATCH_TIMEOUT_MS and remove their watcher when the client goes away. v2 auth's users, roles and
 * switch live in the v2 store under /2 and change through facade.v2AuthRequest (auth-store.ts); one
 * V2AuthStore per v2Api, shared by the three handlers.
 */
import type { EtcdMetrics } from '../../pkg/metrics.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { EtcdServerFacade } from '../../server/facade.js';
import { FORM_BODY_BYTES_MAX } from './form.js';
import { keysHandler, keysHttp1Handler, WATCH_TIMEOUT_MS } from './keys.js';
import type { Http1Request, Http1Response } from '../../platform/http1/connection.js';
import { registerMembers } from './members.js';
import { registerStats } from './stats.js';
import type { Logger } from '../../pkg/logger.js';
import { V2AuthAccess } from './auth-access.js';
import { authHandler } from './auth-http.js';
import { V2AuthStore } from './auth-store.js';

export { WATCH_TIMEOUT_MS } from './keys.js';
export { FORM_BODY_BYTES_MAX } from './form.js';

/** The body size members requests may have: above it fastify answers 413. */
export const V2_BODY_BYTES_MAX = FORM_BODY_BYTES_MAX + 1024 * 1024;

export interface V2PluginOptions {
  /** How long a watch request stays open (etcd: 5 minutes). */
  readonly watchTimeoutMs?: number;
  /** The member's metrics: /v2/keys requests are counted in etcd_http_* when given. */
  readonly metrics?: EtcdMetrics;
  /** --client-cert-auth: with v2 auth on, a request without Authorization is its certificate's user. */
  readonly clientCertAuth?: boolean;
  /** Where v2 auth's changes and refusals are logged (etcd logs them at info and warn). */
  readonly logger?: Logger;
}

export type V2PluginFacade = Pick<EtcdServerFacade,
  'v2Keys' | 'v2Watch' | 'v2Index' | 'v2AuthProbe' | 'v2AuthRequest' | 'v2AuthGet' | 'v2StoreStats' | 'v2Header' |
  'v2Members' | 'v2SelfStats' | 'v2LeaderStats' | 'memberAdd' | 'memberRemove' | 'memberUpdate' | 'version'>;

export interface V2Api {
  /** Members, machines and stats, as a fastify plugin (encapsulated: its raw-body parser stays inside). */
  readonly plugin: FastifyPluginAsync;
  /** /v2/keys[/…]: answers and returns true, or returns false for any other request. */
  readonly keys: (req: IncomingMessage, res: ServerResponse, cors: Readonly<Record<string, string>>) => boolean;
  /** /v2/keys[/…] on the client port's JavaScript HTTP/1.1: answers and returns true, or false (nothing done) for node:http. */
  readonly keysHttp1: (req: Http1Request, res: Http1Response, cors: Readonly<Record<string, string>>) => boolean;
  /** /v2/auth/{enable,users[/…],roles[/…]}: answers and returns true, or returns false for any other request. */
  readonly auth: (req: IncomingMessage, res: ServerResponse, cors: Readonly<Record<string, string>>) => boolean;
}

export function v2Api(facade: V2PluginFacade, opts: V2PluginOptions = {}): V2Api {
  const log = opts.logger?.child({ room: 'api/v2', component: 'v2auth' });
  const store = new V2AuthStore(facade, log);
  const access = new V2AuthAccess(store, opts.clientCertAuth ?? false, log);
  const plugin = async (app: FastifyInstance): Promise<void> => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: V2_BODY_BYTES_MAX }, (_req, body, done) => done(null, body));
    registerMembers(app, facade, access);
    registerStats(app, facade);
  };
  const keysOpts = { watchTimeoutMs: opts.watchTimeoutMs ?? WATCH_TIMEOUT_MS, metrics: opts.metrics, access };
  return {
    plugin,
    keys: keysHandler(facade, keysOpts),
    keysHttp1: keysHttp1Handler(facade, keysOpts),
    auth: authHandler(facade, store, access),
  };
}
