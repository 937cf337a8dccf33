// The /v3 JSON gateway against a fake facade, checked against the request→response pairs observed
// on etcd 3.4.23 (observed-etcd.md). Bodies are compared byte for byte.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../../src/api/http/index.js';
import { createMetrics, type EtcdMetrics } from '../../../src/pkg/metrics.js';
import { createFakeFacade, type FakeState } from './fake-facade.js';

const IDS = '"cluster_id":"15118495548433857066","member_id":"13668033151171901709"';
const H = (rev: number) => `{${IDS},"revision":"${rev}","raft_term":"2"}`;

let app: FastifyInstance;
let state: FakeState;
let metrics: EtcdMetrics;

beforeEach(async () => {
  const fake = createFakeFacade();
  state = fake.state;
  metrics = createMetrics();
  app = createHttpApp(fake.facade, { logger: pino({ level: 'silent' }), maxRequestBytes: 1.5 * 1024 * 1024, enableV2: false, metrics });
  await app.ready();
});
afterEach(async () => {
  await app.close();
});

// curl -d sends form encoding; the gateway must not care.
const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });

async function expectBody(url: string, payload: string, status: number, body: string) {
  const res = await post(url, payload);
  expect({ status: res.statusCode, body: res.body }).toEqual({ status, body });
  return res;
}

describe('KV', () => {
  it('put, put with prev_kv, range: etcd bytes', async () => {
    const res = await expectBody('/v3/kv/put', '{"key":"Zm9v","value":"YmFy"}', 200, `{"header":${H(2)}}`);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['grpc-metadata-content-type']).toBe('application/grpc');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    await expectBody('/v3/kv/put', '{"key":"Zm9v","value":"YmF6","prev_kv":true}', 200,
      `{"header":${H(3)},"prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}}`);
    await expectBody('/v3/kv/range', '{"key":"Zm9v"}', 200,
      `{"header":${H(3)},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}],"count":"1"}`);
    await expectBody('/v3/kv/range', '{"key":"bm9uZQ=="}', 200, `{"header":${H(3)}}`);
  });

  it('range options: numbers or strings, enum names or numbers, camelCase, unknown fields', async () => {
    await post('/v3/kv/put', '{"key":"Zm9v","value":"YmF6"}');
    await post('/v3/kv/put', '{"key":"Zm9vMQ==","value":"MQ=="}');
    const kv1 = '{"key":"Zm9vMQ==","create_revision":"3","mod_revision":"3","version":"1"';
    await expectBody('/v3/kv/range', '{"key":"Zm9v","range_end":"Zm9w","limit":1,"sort_order":"DESCEND","sort_target":"KEY"}', 200,
      `{"header":${H(3)},"kvs":[${kv1},"value":"MQ=="}],"more":true,"count":"2"}`);
    await expectBody('/v3/kv/range', '{"key":"Zm9v","range_end":"Zm9w","limit":"1","sort_order":2,"keys_only":true}', 200,
      `{"header":${H(3)},"kvs":[${kv1}}],"more":true,"count":"2"}`);
    await expectBody('/v3/kv/range', '{"key":"Zm9v","rangeEnd":"Zm9w","sortOrder":"ASCEND","countOnly":true,"bogus":1}', 200,
      `{"header":${H(3)},"count":"2"}`);
    expect(state.calls.at(-1)?.req).toMatchObject({ sort_order: 'ASCEND', count_only: true, limit: '0', serializable: false });
  });

  it('deleterange, compaction and their errors', async () => {
    await post('/v3/kv/put', '{"key":"Zm9vMQ==","value":"MQ=="}');
    await expectBody('/v3/kv/deleterange', '{"key":"Zm9vMQ==","prev_kv":true}', 200,
      `{"header":${H(3)},"deleted":"1","prev_kvs":[{"key":"Zm9vMQ==","create_revision":"2","mod_revision":"2","version":"1","value":"MQ=="}]}`);
    await expectBody('/v3/kv/deleterange', '{"key":"eHh4"}', 200, `{"header":${H(3)}}`);
    await expectBody('/v3/kv/compaction', '{"revision":"2"}', 200, `{"header":${H(3)}}`);
    const compacted = 'etcdserver: mvcc: required revision has been compacted';
    await expectBody('/v3/kv/compaction', '{"revision":"2"}', 400, `{"error":"${compacted}","message":"${compacted}","code":11}`);
    await expectBody('/v3/kv/range', '{"key":"Zm9v","revision":1}', 400, `{"error":"${compacted}","message":"${compacted}","code":11}`);
    const future = 'etcdserver: mvcc: required revision is a future revision';
    await expectBody('/v3/kv/range', '{"key":"Zm9v","revision":100}', 400, `{"error":"${future}","message":"${future}","code":11}`);
  });

  it('txn: success branch, failure branch, empty txn, duplicate keys', async () => {
    await post('/v3/kv/put', '{"key":"Zm9v","value":"YmF6"}');
    const cmp = '"compare":[{"key":"Zm9v","result":"EQUAL","target":"VALUE","value":"YmF6"}]';
    await expectBody('/v3/kv/txn', `{${cmp},"success":[{"request_put":{"key":"Zm9v","value":"cXV4"}},{"request_range":{"key":"Zm9v"}}],"failure":[]}`, 200,
      `{"header":${H(3)},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"3"}}},` +
      `{"response_range":{"header":{"revision":"3"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"cXV4"}],"count":"1"}}]}`);
    expect(state.calls.at(-1)?.req.success[0]).toMatchObject({ request: 'request_put' });
    await expectBody('/v3/kv/txn', `{${cmp},"failure":[{"requestRange":{"key":"Zm9v"}},{"request_delete_range":{"key":"bm8="}}]}`, 200,
      `{"header":${H(3)},"responses":[{"response_range":{"header":{"revision":"3"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"cXV4"}],"count":"1"}},` +
      `{"response_delete_range":{"header":{"revision":"3"}}}]}`);
    await expectBody('/v3/kv/txn', '{}', 200, `{"header":${H(3)},"succeeded":true}`);
    const dup = 'etcdserver: duplicate key given in txn request';
    await expectBody('/v3/kv/txn', '{"success":[{"request_put":{"key":"YQ=="}},{"request_put":{"key":"YQ=="}}]}', 400,
      `{"error":"${dup}","message":"${dup}","code":3}`);
  });

  it('validation and server errors map through the one table', async () => {
    const noKey = '{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":3}';
    await expectBody('/v3/kv/range', '{}', 400, noKey);
    await expectBody('/v3/kv/range', '', 400, noKey);
    await expectBody('/v3/kv/put', '{}', 400, noKey);
    await expectBody('/v3/kv/range', '{"key":null}', 400, noKey);
    expect(state.calls).toHaveLength(0); // validation happens before the facade
    state.alarms.push({ memberID: '1', alarm: 'NOSPACE' });
    const nospace = 'etcdserver: mvcc: database space exceeded';
    await expectBody('/v3/kv/put', '{"key":"Zm9v","value":"MQ=="}', 429, `{"error":"${nospace}","message":"${nospace}","code":8}`);
    await expectBody('/v3/auth/authenticate', '{"name":"root","password":"x"}', 412,
      '{"error":"etcdserver: authentication is not enabled","message":"etcdserver: authentication is not enabled","code":9}');
  });

  it('any Content-Type (or none) carries the JSON body', async () => {
    for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'text/plain' }, {}]) {
      const res = await app.inject({ method: 'POST', url: '/v3/kv/range', payload: '{"key":"Zm9v"}', headers });
      expect({ status: res.statusCode, body: res.body }).toEqual({ status: 200, body: `{"header":${H(1)}}` });
    }
    const empty = await app.inject({ method: 'POST', url: '/v3/kv/range', headers: { 'content-type': 'application/json' } });
    expect(empty.json()).toMatchObject({ code: 3, message: 'etcdserver: key is not provided' });
  });

  it('decode errors never reach the server and use Go-like texts', async () => {
    const bad = (msg: string) => `{"error":${JSON.stringify(msg)},"message":${JSON.stringify(msg)},"code":3}`;
    await expectBody('/v3/kv/range', '{"key":"!!!"}', 400, bad('illegal base64 data at input byte 0'));
    await expectBody('/v3/kv/range', '{"key":"Zm9vYg=x"}', 400, bad('illegal base64 data at input byte 6'));
    await expectBody('/v3/kv/range', '{"key":"Zm9v","limit":"abc"}', 400, bad("invalid character 'a' looking for beginning of value"));
    await expectBody('/v3/kv/range', '{"key":"Zm9v","sort_order":"BOGUS"}', 400,
      bad('unknown value "BOGUS" for enum etcdserverpb.RangeRequest_SortOrder'));
    await expectBody('/v3/kv/range', '{"key":1}', 400, bad('json: cannot unmarshal number into Go value of type []uint8'));
    await expectBody('/v3/kv/range', '{"key":"Zm9v","limit":1.5}', 400, bad('json: cannot unmarshal number 1.5 into Go value of type int64'));
    await expectBody('/v3/kv/range', '{"key":"Zm9v","keys_only":"true"}', 400, bad('json: cannot unmarshal string into Go value of type bool'));
    await expectBody('/v3/kv/range', '[]', 400, bad('json: cannot unmarshal array into Go value of type map[string]json.RawMessage'));
    await expectBody('/v3/kv/range', '{"key":"Zm9v"', 400, bad('unexpected EOF'));
    expect(state.calls).toHaveLength(0);
    await expectBody('/v3/kv/range', '{"key":"Zm9v"} trailing', 200, `{"header":${H(1)}}`); // Go reads one value
  });
});

describe('lease, cluster, maintenance', () => {
  it('lease grant / timetolive / leases / revoke, both path spellings', async () => {
    await expectBody('/v3/lease/grant', '{"TTL":30}', 200, `{"header":${H(1)},"ID":"4111120162556413211","TTL":"30"}`);
    await expectBody('/v3/lease/grant', '{"TTL":30,"ID":1234}', 200, `{"header":${H(1)},"ID":"1234","TTL":"30"}`);
    const exists = 'etcdserver: lease already exists';
    await expectBody('/v3/lease/grant', '{"TTL":30,"ID":1234}', 412, `{"error":"${exists}","message":"${exists}","code":9}`);
    await expectBody('/v3/lease/timetolive', '{"ID":"1234","keys":true}', 200, `{"header":${H(1)},"ID":"1234","TTL":"29","grantedTTL":"30"}`);
    await expectBody('/v3/kv/lease/timetolive', '{"ID":99}', 200, `{"header":${H(1)},"ID":"99","TTL":"-1"}`);
    const leases = `{"header":${H(1)},"leases":[{"ID":"4111120162556413211"},{"ID":"1234"}]}`;
    await expectBody('/v3/lease/leases', '{}', 200, leases);
    await expectBody('/v3/kv/lease/leases', '{}', 200, leases);
    const nf = 'etcdserver: requested lease not found';
    await expectBody('/v3/lease/revoke', '{"ID":99}', 404, `{"error":"${nf}","message":"${nf}","code":5}`);
    await expectBody('/v3/kv/lease/revoke', '{"ID":1234}', 200, `{"header":${H(1)}}`);
  });

  it('member list and status', async () => {
    await expectBody('/v3/cluster/member/list', '{}', 200,
      `{"header":{${IDS},"raft_term":"2"},"members":[{"ID":"13668033151171901709","name":"h1","peerURLs":["http://127.0.0.1:23801"],"clientURLs":["http://127.0.0.1:23791"]}]}`);
    await expectBody('/v3/maintenance/status', '{}', 200,
      `{"header":${H(1)},"version":"3.4.23","dbSize":"20480","leader":"13668033151171901709","raftIndex":"23","raftTerm":"2","raftAppliedIndex":"23","dbSizeInUse":"16384"}`);
  });

  it('passes the Authorization header as the auth token', async () => {
    await post('/v3/kv/range', '{"key":"Zm9v"}', { authorization: 'tok.123' });
    expect(state.calls.at(-1)).toMatchObject({ method: 'range', token: 'tok.123' });
  });
});

describe('paths', () => {
  it('/v3beta is an alias; /v3alpha and unknown paths are 404s with etcd texts; wrong method 405', async () => {
    await expectBody('/v3beta/kv/range', '{"key":"Zm9v"}', 200, `{"header":${H(1)}}`);
    const alpha = await expectBody('/v3alpha/kv/range', '{"key":"Zm9v"}', 404, '404 page not found\n');
    expect(alpha.headers['content-type']).toBe('text/plain; charset=utf-8');
    await expectBody('/v3/kv/nothing', '{}', 404, 'Not Found\n');
    await expectBody('/v3/maintenance/hashkv', '{}', 404, 'Not Found\n');
    const get = await app.inject({ method: 'GET', url: '/v3/kv/range' });
    expect({ status: get.statusCode, body: get.body }).toEqual({ status: 405, body: 'Method Not Allowed\n' });
  });
});

describe('request size limits (on the protobuf size, as etcd behind its gateway)', () => {
  it('1.6 MB put: request is too large; 2.2 MB: gRPC refusal; 1.6 MB range end: served', async () => {
    const body = (field: string, n: number) => JSON.stringify({ key: 'Ymln', [field]: Buffer.alloc(n, 'x').toString('base64') });
    const tooLarge = 'etcdserver: request is too large';
    await expectBody('/v3/kv/put', body('value', 1_600_000), 400, `{"error":"${tooLarge}","message":"${tooLarge}","code":3}`);
    const refused = 'grpc: received message larger than max (2200010 vs. 2097152)';
    await expectBody('/v3/kv/put', body('value', 2_200_000), 429, `{"error":"${refused}","message":"${refused}","code":8}`);
    await expectBody('/v3/kv/range', body('range_end', 2_200_000), 429, `{"error":"${refused}","message":"${refused}","code":8}`);
    // a 5 MB value (a 7 MB body) is read whole as etcd's gateway reads it, and refused naming its size
    const five = 'grpc: received message larger than max (5242890 vs. 2097152)';
    await expectBody('/v3/kv/put', body('value', 5 * 1024 * 1024), 429, `{"error":"${five}","message":"${five}","code":8}`);
    const res = await post('/v3/kv/range', body('range_end', 1_600_000));
    expect(res.statusCode).toBe(200);
    expect(state.calls.map((c) => c.method)).toEqual(['range']);
  });
});

describe('metrics of gateway calls', () => {
  it('counts gateway calls as gRPC calls with etcd labels', async () => {
    await post('/v3/kv/range', '{"key":"Zm9v"}');
    await post('/v3/kv/range', '{}');
    const text = await metrics.registry.metrics();
    expect(text).toContain('grpc_server_handled_total{grpc_code="OK",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 1');
    expect(text).toContain('grpc_server_handled_total{grpc_code="InvalidArgument",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 1');
    expect(text).toContain('grpc_server_started_total{grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 2');
  });
});
