// /v2/members, /v2/machines and /v2/stats/* as etcd 3.4.23 answers them (observed with curl).
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { startApp, type FakeV2 } from './fake-v2.js';
import { checkUrls } from '../../../src/api/v2/members.js';
import { goDuration } from '../../../src/api/v2/stats.js';

let app: FastifyInstance;
let fake: FakeV2;
afterEach(async () => {
  await app?.close();
});

async function call(method: string, url: string, payload?: string, ct = 'application/json') {
  const r = await app.inject({ method: method as 'GET', url, ...(payload === undefined ? {} : { payload, headers: { 'content-type': ct } }) });
  return { status: r.statusCode, body: r.body, h: r.headers };
}

const MEMBER = '{"id":"667880157b8812c8","name":"default","peerURLs":["http://127.0.0.1:2380"],"clientURLs":["http://127.0.0.1:2379"]}';

describe('/v2/members', () => {
  it('lists members and the leader; unknown sub-paths are 404 Not found', async () => {
    ({ app, fake } = await startApp());
    expect(await call('GET', '/v2/members')).toMatchObject({ status: 200, body: `{"members":[${MEMBER}]}\n`, h: { 'x-etcd-cluster-id': 'dc50b8daae93b3e0' } });
    expect((await call('GET', '/v2/members/leader')).body).toBe(`${MEMBER}\n`);
    expect(await call('GET', '/v2/members/abc')).toMatchObject({ status: 404, body: '{"message":"Not found"}' });
  });

  it('bad input gets etcd\'s answers; a valid add the server cannot make is 500 Internal Server Error', async () => {
    ({ app, fake } = await startApp());
    const probes = fake.store.statsJson().getsFail;
    expect(await call('POST', '/v2/members', '{}', 'application/x-www-form-urlencoded'))
      .toMatchObject({ status: 415, body: '{"message":"Bad Content-Type application/x-www-form-urlencoded, accept application/json"}' });
    expect(await call('POST', '/v2/members', '{')).toMatchObject({ status: 400, body: '{"message":"unexpected end of JSON input"}' });
    expect(await call('POST', '/v2/members', '{}')).toMatchObject({ status: 400, body: '{"message":"no valid URLs given"}' });
    expect(await call('POST', '/v2/members', '{"peerURLs":["bad"]}')).toMatchObject({ status: 400, body: '{"message":"URL scheme must be http, https, unix, or unixs: bad"}' });
    expect(await call('POST', '/v2/members', '{"peerURLs":["http://127.0.0.1:1"]}')).toMatchObject({ status: 500, body: '{"message":"Internal Server Error"}' });
    fake.memberAddError = Object.assign(new Error('x'), { name: 'EtcdError', code: 'PeerURLExist' });
    expect(await call('POST', '/v2/members', '{"peerURLs":["http://127.0.0.1:2380"]}')).toMatchObject({ status: 409, body: '{"message":"membership: peerURL exists"}' });
    expect(await call('DELETE', '/v2/members/zz')).toMatchObject({ status: 404, body: '{"message":"No such member: zz"}' });
    expect(await call('DELETE', '/v2/members/01234')).toMatchObject({ status: 404, body: '{"message":"No such member: 1234"}' });
    expect(await call('DELETE', '/v2/members')).toMatchObject({ status: 405, body: 'Method Not Allowed\n' });
    expect(await call('PUT', '/v2/members/1234', '{"peerURLs":[]}')).toMatchObject({ status: 400, body: '{"message":"no valid URLs given"}' });
    expect(await call('PATCH', '/v2/members')).toMatchObject({ status: 405, h: { allow: 'GET,POST,DELETE,PUT' } });
    expect(await call('HEAD', '/v2/members/leader')).toMatchObject({ status: 405, h: { allow: 'GET,POST,DELETE,PUT' } });
    // POST, PUT and DELETE make the v2 auth lookup (10); an unknown member's DELETE reads the member lists (2, missing in the fake)
    expect(fake.store.statsJson().getsFail - probes).toBe(12);
  });

  it('checkUrls: etcd\'s messages', () => {
    expect(checkUrls(['http://127.0.0.1:1/x'])).toBe('URL must not contain a path: http://127.0.0.1:1/x');
    expect(checkUrls(['http://127.0.0.1'])).toBe('URL address does not have the form "host:port": http://127.0.0.1');
    expect(checkUrls(['unix://a:1', 'https://h:1'])).toBeUndefined();
    expect(checkUrls(['unix://a'])).toBe('URL address does not have the form "host:port": unix://a'); // etcd 3.4.23 wants a port there too
  });
});

describe('/v2/machines and /v2/stats', () => {
  it('machines: client URLs as text; stats: etcd field order; 405 Allow lists', async () => {
    ({ app, fake } = await startApp());
    expect(await call('GET', '/v2/machines')).toMatchObject({ status: 200, body: 'http://127.0.0.1:2379', h: { 'content-type': 'text/plain; charset=utf-8' } });
    expect(await call('POST', '/v2/machines')).toMatchObject({ status: 405, h: { allow: 'GET,HEAD' } });
    expect((await call('GET', '/v2/stats/store')).body).toBe('{"getsSuccess":0,"getsFail":0,"setsSuccess":0,"setsFail":0,"deleteSuccess":0,"deleteFail":0,' +
      '"updateSuccess":0,"updateFail":0,"createSuccess":0,"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,' +
      '"compareAndDeleteFail":0,"expireCount":0,"watchers":0}');
    expect((await call('GET', '/v2/stats/leader')).body).toBe('{"leader":"667880157b8812c8","followers":{}}');
    const self = (await call('GET', '/v2/stats/self')).body;
    expect(self).toMatch(/^\{"name":"default","id":"667880157b8812c8","state":"StateLeader","startTime":"2026-11-22T04:59:59Z","leaderInfo":\{"leader":"667880157b8812c8","uptime":"[0-9hms.]+","startTime":"2026-11-22T04:59:59.5Z"\},"recvAppendRequestCnt":0,"sendAppendRequestCnt":0\}$/);
    expect(await call('POST', '/v2/stats/self')).toMatchObject({ status: 405, h: { allow: 'GET' } });
    expect(await call('HEAD', '/v2/stats/store')).toMatchObject({ status: 405, h: { allow: 'GET' } });
    expect(await call('GET', '/v2/stats')).toMatchObject({ status: 404, body: '404 page not found\n' });
  });

  it('goDuration prints Go durations', () => {
    expect(goDuration(739799.844047)).toBe('12m19.799844047s');
    expect(goDuration(3_600_000 + 1)).toBe('1h0m0.001s');
    expect(goDuration(1.5)).toBe('1.5ms');
    expect(goDuration(0)).toBe('0s');
  });
});
