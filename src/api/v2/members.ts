/*
 * /v2/members (etcd 3.4's v2 members API) and /v2/machines.
 *   GET  /v2/members         → 200 {"members":[{"id":"<hex>","name":…,"peerURLs":[…],"clientURLs":[…]}]}\n
 *   GET  /v2/members/leader  → 200 the leader member\n          GET /v2/members/<other> → 404 {"message":"Not found"}
 *   POST /v2/members {"peerURLs":[…]} (Content-Type application/json, else 415) → 201 the new member\n
 *   DELETE /v2/members/<hex id> → 204 ; PUT /v2/members/<hex id> {"peerURLs":[…]} → 204
 * Bad input is answered as etcd answers it (400 URL messages, 404 "No such member: <id>", 409
 * "membership: peerURL exists"); a change the server refuses otherwise (strict reconfiguration: not
 * enough started members, unhealthy cluster) is etcd's 500 {"message":"Internal Server Error"}.
 * A removed member's id: DELETE 410 "Member permanently removed: <id>", PUT 500, as etcd's.
 * POST, PUT and DELETE make the v2 auth check (the read of /2/enabled counted in /v2/stats/store; with
 * v2 auth on, a user with the root role, else 401 {"message":"Insufficient credentials"}), as etcd's do.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EtcdServerFacade, V2Member } from '../../server/facade.js';
import { goJsonString } from '../../v2store/index.js';
import type { V2AuthAccess } from './auth-access.js';
import { GoPanic } from './auth-store.js';
import { readPeerUrlsBody } from './member-body.js';
import { clusterIdHex, methodNotAllowed, sendJson, sendMessage, writeGo } from './reply.js';

export { checkUrls } from './member-body.js';

export type MembersFacade = Pick<EtcdServerFacade, 'memberAdd' | 'memberRemove' | 'memberUpdate' | 'v2Members' | 'v2Header' | 'v2AuthProbe' |
  'v2SelfStats'>;

const strings = (xs: readonly string[]): string => `[${xs.map(goJsonString).join(',')}]`;

export function memberJson(m: V2Member): string {
  return `{"id":"${m.id.toString(16)}","name":${goJsonString(m.name)},"peerURLs":${strings(m.peerURLs)},"clientURLs":${strings(m.clientURLs)}}`;
}

/**
 * The peerURLs of a JSON body, or the 415/400 answer etcd gives (its unmarshalRequest: the media type
 * before a ";" is trimmed and lowercased, a bare one is compared as sent).
 */
function readPeerUrls(request: FastifyRequest): { urls: string[] } | { status: number; message: string } {
  let ct = request.headers['content-type'] ?? '';
  const semi = ct.indexOf(';');
  if (semi >= 0) ct = ct.slice(0, semi).trim().toLowerCase();
  if (ct !== 'application/json') return { status: 415, message: `Bad Content-Type ${ct}, accept application/json` };
  const r = readPeerUrlsBody((request.body as Buffer | undefined) ?? Buffer.alloc(0));
  return 'urls' in r ? r : { status: 400, message: r.message };
}

function memberError(reply: FastifyReply, err: unknown, id?: string, method?: string): FastifyReply {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'MemberNotFound' && id !== undefined) return sendMessage(reply, 404, `No such member: ${id}`);
  // etcd's DELETE names a removed id (ErrIDRemoved); its PUT has no case for it: a plain 500
  if (code === 'MemberRemoved' && method === 'DELETE') return sendMessage(reply, 410, `Member permanently removed: ${id ?? ''}`);
  if (code === 'PeerURLExist') return sendMessage(reply, 409, 'membership: peerURL exists');
  if (code === 'MemberExist') return sendMessage(reply, 409, 'membership: ID exists');
  return sendMessage(reply, 500, 'Internal Server Error');
}

/** A hex member id as etcd's types.IDFromString reads it (ParseUint base 16). */
function parseId(s: string): bigint | undefined {
  return /^[0-9a-fA-F]{1,16}$/.test(s) ? BigInt(`0x${s}`) : undefined;
}

async function handleMembers(facade: MembersFacade, access: V2AuthAccess, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const m = request.method;
  if (m === 'PATCH' || m === 'HEAD') return methodNotAllowed(reply, 'GET,POST,DELETE,PUT');
  // etcd's hasWriteRootAccess: with v2 auth on, a change needs a user with the root role
  const allowed = access.hasWriteRootAccess({ method: m, authorization: request.headers.authorization, socket: request.raw.socket });
  if (allowed !== true && !(allowed !== false && (await allowed))) return sendMessage(reply, 401, 'Insufficient credentials');
  reply.header('X-Etcd-Cluster-Id', clusterIdHex(facade.v2Header()));
  const rest = request.url.split('?')[0]!.slice('/v2/members'.length).replace(/^\//, '');
  if (m === 'GET') return getMembers(facade, rest, reply);
  if (m === 'POST') {
    const body = readPeerUrls(request);
    if ('status' in body) return sendMessage(reply, body.status, body.message);
    try {
      const r = await facade.memberAdd({ peerURLs: body.urls, isLearner: false });
      const mm = r.member!;
      const added: V2Member = { id: BigInt(String(mm.ID)), name: mm.name ?? '', peerURLs: mm.peerURLs ?? [], clientURLs: mm.clientURLs ?? [] };
      return sendJson(reply, 201, `${memberJson(added)}\n`);
    } catch (err) {
      return memberError(reply, err);
    }
  }
  if (rest === '') return methodNotAllowed(reply);
  const id = parseId(rest);
  if (id === undefined) return sendMessage(reply, 404, `No such member: ${rest}`);
  // an unknown or removed id is proposed all the same: etcd's validation refuses it when it applies
  if (m === 'DELETE') {
    try {
      await facade.memberRemove({ ID: id.toString() });
      return writeGo(reply, 204, {}, '');
    } catch (err) {
      return memberError(reply, err, id.toString(16), 'DELETE');
    }
  }
  const body = readPeerUrls(request);
  if ('status' in body) return sendMessage(reply, body.status, body.message);
  try {
    await facade.memberUpdate({ ID: id.toString(), peerURLs: body.urls });
    return writeGo(reply, 204, {}, '');
  } catch (err) {
    return memberError(reply, err, id.toString(16));
  }
}

function getMembers(facade: MembersFacade, rest: string, reply: FastifyReply): FastifyReply {
  const members = facade.v2Members();
  if (rest === '') {
    const body = `{"members":[${members.map(memberJson).join(',')}]}\n`;
    return sendJson(reply, 200, body);
  }
  if (rest === 'leader') {
    const leaderId = facade.v2SelfStats().leader;
    const leader = members.find((x) => x.id === leaderId);
    if (leader === undefined) return sendMessage(reply, 503, 'During Leader Election');
    return sendJson(reply, 200, `${memberJson(leader)}\n`);
  }
  return sendMessage(reply, 404, 'Not found');
}

export function registerMembers(app: FastifyInstance, facade: MembersFacade, access: V2AuthAccess): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    try {
      return await handleMembers(facade, access, request, reply);
    } catch (err) {
      if (!(err instanceof GoPanic)) throw err;
      reply.hijack(); // Go's server closes the connection of a handler that panicked
      reply.raw.destroy();
      return reply;
    }
  };
  for (const url of ['/v2/members', '/v2/members/*']) {
    app.route({ method: ['GET', 'HEAD', 'POST', 'DELETE', 'PUT', 'PATCH'], url, handler, exposeHeadRoute: false });
  }
  app.route({
    method: ['GET', 'HEAD'], url: '/v2/machines', exposeHeadRoute: false,
    handler: (_req, reply) => {
      // etcd sets this Content-Length itself, so Go prints it among the sorted headers
      const body = Buffer.from(facade.v2Members().flatMap((m) => m.clientURLs).join(', '));
      return writeGo(reply, 200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length }, body);
    },
  });
  app.route({ method: ['POST', 'PUT', 'DELETE', 'PATCH'], url: '/v2/machines', handler: (_req, reply) => methodNotAllowed(reply, 'GET,HEAD') });
}
