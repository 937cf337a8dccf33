// Wire compatibility of proto/ with etcd 3.4: the real etcdctl 3.4 talks to our grpc server
// (fake facade answering fixed data) and must print those values. A wrong field number or type
// would show up as a missing or garbled field. Fails (does not skip) when etcdctl is missing.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtcdServerFacade } from '../../../src/server/facade.js';
import { fakeFacade, header, startServer, type Running } from './harness.js';

const ETCDCTL = '/usr/bin/etcdctl';
const MEMBER_ID = '10276657743932975437'; // > 2^63
const puts: { key: string; value: string; lease: string }[] = [];

const facade: Partial<EtcdServerFacade> = {
  range: async (r) => ({
    header: header(9),
    kvs: [{ key: r.key, value: Buffer.from('bar'), create_revision: 4, mod_revision: 8, version: 3, lease: '7587861231231231231' }],
    count: 1,
  }),
  put: async (r) => {
    puts.push({ key: r.key.toString(), value: r.value.toString(), lease: r.lease });
    return { header: header(10) };
  },
  memberList: async () => ({
    header: header(0),
    members: [{ ID: MEMBER_ID, name: 'infra1', peerURLs: ['http://127.0.0.1:2380'], clientURLs: ['http://127.0.0.1:2379'], isLearner: false }],
  }),
  status: async () => ({
    header: header(12),
    version: '3.4.23',
    dbSize: 20480,
    leader: MEMBER_ID,
    raftIndex: 34,
    raftTerm: 2,
    raftAppliedIndex: 33,
    errors: ['memberID:1 alarm:NOSPACE '],
    dbSizeInUse: 16384,
    isLearner: false,
  }),
};

let srv: Running;
beforeAll(async () => {
  srv = await startServer(fakeFacade(facade));
});
afterAll(async () => {
  await srv.stop();
});

function etcdctl(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      ETCDCTL,
      ['--endpoints', srv.address, '--dial-timeout', '5s', ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 20_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

/** JSON.parse with every integer kept as its decimal text (uint64 values exceed 2^53). */
function parseExact(text: string): any {
  return JSON.parse(text.replace(/([:\[,]\s*)(-?\d+)(?=\s*[,}\]])/g, '$1"$2"'));
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('etcdctl 3.4 against proto/', () => {
  it('has etcdctl installed', () => {
    expect(existsSync(ETCDCTL)).toBe(true);
  });

  it('get -w json prints header and key-value fields', async () => {
    const out = parseExact(await etcdctl('get', 'foo', '-w', 'json'));
    expect(out.header).toEqual({ cluster_id: '15118495548433857066', member_id: '9372538179322589801', revision: '9', raft_term: '7' });
    expect(out.kvs).toEqual([
      { key: b64('foo'), create_revision: '4', mod_revision: '8', version: '3', value: b64('bar'), lease: '7587861231231231231' },
    ]);
    expect(out.count).toBe('1');
  });

  it('put sends key, value and lease', async () => {
    expect((await etcdctl('put', 'k1', 'hello', '--lease', '694d7a2b0c1f3e4d')).trim()).toBe('OK');
    expect(puts.at(-1)).toEqual({ key: 'k1', value: 'hello', lease: BigInt('0x694d7a2b0c1f3e4d').toString() });
  });

  it('member list -w json prints members', async () => {
    const out = parseExact(await etcdctl('member', 'list', '-w', 'json'));
    expect(out.members).toEqual([
      { ID: MEMBER_ID, name: 'infra1', peerURLs: ['http://127.0.0.1:2380'], clientURLs: ['http://127.0.0.1:2379'] },
    ]);
    expect(out.header.cluster_id).toBe('15118495548433857066');
  });

  it('endpoint status -w json prints every Status field', async () => {
    const [ep] = parseExact(await etcdctl('endpoint', 'status', '-w', 'json'));
    expect(ep.Endpoint).toBe(srv.address);
    expect(ep.Status).toEqual({
      header: { cluster_id: '15118495548433857066', member_id: '9372538179322589801', revision: '12', raft_term: '7' },
      version: '3.4.23',
      dbSize: '20480',
      leader: MEMBER_ID,
      raftIndex: '34',
      raftTerm: '2',
      raftAppliedIndex: '33',
      errors: ['memberID:1 alarm:NOSPACE '],
      dbSizeInUse: '16384',
    });
  });
});
