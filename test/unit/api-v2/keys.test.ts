// /v2/keys through the plugin and the HTTP app, over a fake server with a real V2Store: statuses,
// headers and bodies as etcd 3.4.23 answers (test/unit/v2store/observed-etcd.md; indexes here start
// at 1 because the fake has no cluster mirror under /0).
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { injectServer, startApp, type FakeV2 } from './fake-v2.js';
import { goCleanPath } from '../../../src/api/v2/reply.js';

let app: FastifyInstance;
let fake: FakeV2;
afterEach(async () => {
  await app?.close();
});

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
async function call(method: string, url: string, payload?: string) {
  const r = await injectServer(app, { method: method as 'GET', url, ...(payload === undefined ? {} : { payload, headers: FORM }) });
  return { status: r.statusCode, body: r.body, h: r.headers };
}

describe('/v2/keys', () => {
  it('set, get, update: 201/200, etcd headers, body + newline, no charset', async () => {
    ({ app, fake } = await startApp());
    const a = await call('PUT', '/v2/keys/foo', 'value=bar');
    expect(a.status).toBe(201);
    expect(a.body).toBe('{"action":"set","node":{"key":"/foo","value":"bar","modifiedIndex":1,"createdIndex":1}}\n');
    expect(a.h).toMatchObject({ 'content-type': 'application/json', 'x-etcd-index': '1', 'x-raft-index': '2', 'x-raft-term': '2',
      'x-etcd-cluster-id': 'dc50b8daae93b3e0', 'access-control-allow-origin': '*' });
    const b = await call('PUT', '/v2/keys/foo?prevExist=true', 'value=baz');
    expect(b.status).toBe(200);
    expect(b.body).toContain('"action":"update"');
    const g = await call('GET', '/v2/keys');
    expect(g.body).toBe('{"action":"get","node":{"dir":true,"nodes":[{"key":"/foo","value":"baz","modifiedIndex":2,"createdIndex":1}]}}\n');
  });

  it('errors: etcd body, status and X-Etcd-Index; parse errors write nothing and skip the auth lookup', async () => {
    ({ app, fake } = await startApp());
    const nf = await call('GET', '/v2/keys/nokey');
    expect([nf.status, nf.h['x-etcd-index'], nf.body]).toEqual([404, '0', '{"errorCode":100,"message":"Key not found","cause":"/nokey","index":0}\n']);
    expect(nf.h['x-raft-index']).toBeUndefined();
    const before = fake.store.statsJson().getsFail;
    const bad = await call('PUT', '/v2/keys/x?ttl=abc', 'value=1');
    expect([bad.status, bad.h['x-etcd-index']]).toEqual([400, '0']);
    expect(bad.body).toBe('{"errorCode":202,"message":"The given TTL in POST form is not a number","cause":"invalid value for \\"ttl\\"","index":0}\n');
    const esc = await call('GET', '/v2/keys/x?%zz');
    expect(esc.body).toBe('{"errorCode":210,"message":"Invalid POST form","cause":"invalid URL escape \\"%zz\\"","index":0}\n');
    expect(fake.calls).toHaveLength(1); // only the GET of /nokey reached the server
    expect(fake.store.statsJson().getsFail).toBe(before);
    await call('GET', '/v2/keys/nokey');
    expect(fake.store.statsJson().getsFail).toBe(before + 2); // the auth lookup and the miss
  });

  it('a raft failure is 300 "Raft Internal Error" with etcd\'s text, status 500', async () => {
    ({ app, fake } = await startApp());
    fake.failNext = Object.assign(new Error('Timeout'), { name: 'EtcdError', code: 'Timeout' });
    const r = await call('PUT', '/v2/keys/x', 'value=1');
    expect([r.status, r.body]).toEqual([500, '{"errorCode":300,"message":"Raft Internal Error","cause":"etcdserver: request timed out","index":0}\n']);
  });

  it('noValueOnSuccess, POST in-order keys, HEAD, 405 with Allow, bodies over 2 KiB chunked', async () => {
    ({ app, fake } = await startApp());
    expect((await call('PUT', '/v2/keys/q?noValueOnSuccess=true', 'value=1')).body).toBe('{"action":"set"}\n');
    expect((await call('POST', '/v2/keys/dir', 'value=j')).body).toContain('"key":"/dir/00000000000000000002"');
    const head = await call('HEAD', '/v2/keys/q');
    expect([head.status, head.body, head.h['x-etcd-index']]).toEqual([200, '', '2']);
    const patch = await call('PATCH', '/v2/keys/q');
    expect([patch.status, patch.h.allow, patch.body]).toEqual([405, 'HEAD,GET,PUT,POST,DELETE', 'Method Not Allowed\n']);
    const big = await call('PUT', '/v2/keys/big', `value=${'v'.repeat(3000)}`);
    expect([big.h['transfer-encoding'], big.h['content-length']]).toEqual(['chunked', undefined]);
    const small = await call('GET', '/v2/keys/q');
    expect(small.h['content-length']).toBe(String(Buffer.byteLength(small.body)));
  });

  it('any method but the five is 405 (OPTIONS is the CORS answer); a form body over 10 MiB is 210, nothing written', async () => {
    ({ app, fake } = await startApp());
    const trace = await call('TRACE', '/v2/keys/q');
    expect([trace.status, trace.h.allow]).toEqual([405, 'HEAD,GET,PUT,POST,DELETE']);
    const options = await call('OPTIONS', '/v2/keys/q');
    expect([options.status, options.h['access-control-allow-origin']]).toEqual([200, '*']);
    // whatever its body and Content-Type (fastify refused a media type it cannot parse with 415)
    const odd = await injectServer(app, { method: 'OPTIONS', url: '/v2/keys/a//b', headers: { 'content-type': '; =' }, payload: 'x' });
    expect([odd.statusCode, odd.body, odd.headers['content-length'], odd.headers['access-control-allow-origin']]).toEqual([200, '', '0', '*']);
    const huge = await call('PUT', '/v2/keys/huge', `value=${'v'.repeat(10 << 20)}`);
    expect([huge.status, huge.body]).toEqual([400, '{"errorCode":210,"message":"Invalid POST form","cause":"http: POST too large","index":0}\n']);
    expect(fake.calls).toHaveLength(0);
    expect((await call('GET', '/v2/keysfoo')).status).toBe(404); // not a keys path: fastify's 404 page
  });

  it('unclean paths: Go ServeMux 301 to the cleaned path (query kept), no body for PUT', async () => {
    ({ app, fake } = await startApp());
    const r = await call('GET', '/v2/keys/a//b?x=1');
    expect([r.status, r.h.location, r.body]).toEqual([301, '/v2/keys/a/b?x=1', '<a href="/v2/keys/a/b?x=1">Moved Permanently</a>.\n\n']);
    const p = await call('PUT', '/v2/keys/a//b', 'value=1');
    expect([p.status, p.h.location, p.body, p.h['content-type']]).toEqual([301, '/v2/keys/a/b', '', undefined]);
    expect(fake.calls).toHaveLength(0);
    const h = await call('HEAD', '/v2/keys/a//b');
    expect([h.status, h.h.location, h.h['content-type'], h.h['content-length']]).toEqual([301, '/v2/keys/a/b', 'text/html; charset=utf-8', undefined]);
    expect(goCleanPath('/v2/keys/a/../b')).toBe('/v2/keys/b');
    expect(goCleanPath('/v2/keys/a/./b/')).toBe('/v2/keys/a/b/');
    expect(goCleanPath('/v2/keys/..')).toBe('/v2');
  });

  it('--enable-v2=false: the v2 routes are etcd\'s 404 page', async () => {
    ({ app, fake } = await startApp({ enableV2: false }));
    const r = await call('GET', '/v2/keys/');
    expect([r.status, r.body]).toEqual([404, '404 page not found\n']);
  });
});

function httpGet(port: number, path: string, onData: (s: string) => void): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; onData(body); });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

describe('watches over a real socket', () => {
  it('wait=true: headers at once (X-Etcd-Index = index at start), one event, then the response ends', async () => {
    ({ app, fake } = await startApp());
    await call('PUT', '/v2/keys/w', 'value=0');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const done = httpGet(port, '/v2/keys/w?wait=true', () => {});
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.store.statsJson().watchers).toBe(1);
    await call('PUT', '/v2/keys/w', 'value=1');
    const r = await done;
    expect([r.status, r.headers['x-etcd-index'], r.headers['transfer-encoding']]).toEqual([200, '1', 'chunked']);
    expect(r.body).toBe('{"action":"set","node":{"key":"/w","value":"1","modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/w","value":"0","modifiedIndex":1,"createdIndex":1}}\n');
    expect(fake.store.statsJson().watchers).toBe(0);
  });

  it('a client gone in the middle of its PUT body writes nothing and leaves the member serving', async () => {
    ({ app, fake } = await startApp());
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write('PUT /v2/keys/half HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nvalue=');
    await new Promise((r) => setTimeout(r, 50));
    sock.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const r = await httpGet(port, '/v2/keys/half', () => {});
    expect(r.status).toBe(404);
    expect(fake.calls.filter((c) => c.method === 'PUT')).toEqual([]);
  });

  it('a bad escape in the path: Go\'s bare 400 bytes (no Date, no CORS, not chunked), connection closed', async () => {
    ({ app, fake } = await startApp());
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    sock.write('PUT /v2/keys/%zz HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nvalue=1');
    await new Promise((r) => sock.once('close', r));
    expect(got).toBe('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request');
    expect(fake.calls).toEqual([]);
  });

  it('stream=true: one event per line until the watch times out; history answers waitIndex', async () => {
    ({ app, fake } = await startApp({ plugin: { watchTimeoutMs: 400 } }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const done = httpGet(port, '/v2/keys/s?wait=true&stream=true', () => {});
    await new Promise((r) => setTimeout(r, 50));
    await call('PUT', '/v2/keys/s', 'value=1');
    await call('DELETE', '/v2/keys/s');
    const r = await done;
    expect(r.body.split('\n').map((l) => l.slice(0, 20))).toEqual(['{"action":"set","nod', '{"action":"delete","', '{"action":"delete","', '']);
    const hist = await httpGet(port, '/v2/keys/s?wait=true&waitIndex=1', () => {});
    expect([hist.headers['x-etcd-index'], hist.body.slice(0, 16)]).toEqual(['2', '{"action":"set",']);
    const old = await call('GET', '/v2/keys/s?wait=true&waitIndex=0');
    expect(old.status).toBe(200);
  });
});
