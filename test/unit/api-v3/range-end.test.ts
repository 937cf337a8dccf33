// A range_end sent as a zero-length field (Go clients leave it out) reads every key from `key` on in
// etcd 3.4 where it serves the decoded request itself (Range, read-only Txn), and one key where the
// request is marshalled again for raft (a writing Txn). Found by differential fuzzing against etcd.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RangeRequest__Output } from '../../../src/pb/etcdserverpb/RangeRequest.js';
import type { TxnRequest__Output } from '../../../src/pb/etcdserverpb/TxnRequest.js';
import { fakeFacade, header, startServer, type Running } from './harness.js';

const id = (b: Buffer): Buffer => b;
let server: Running;
let client: grpc.Client;
const seen: { range?: RangeRequest__Output; txn?: TxnRequest__Output } = {};

function raw(path: string, req: number[]): Promise<void> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(path, id, id, Buffer.from(req), new grpc.Metadata(), (err) => (err ? reject(err) : resolve())),
  );
}

beforeAll(async () => {
  server = await startServer(
    fakeFacade({
      range: async (r) => ((seen.range = r), { header: header() }),
      txn: async (t) => ((seen.txn = t), { header: header(), succeeded: true }),
    }),
  );
  client = new grpc.Client(server.address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await server.stop();
});

const KEY = [0x0a, 0x01, 0x61]; // key "a"
const EMPTY_END = [0x12, 0x00]; // range_end, zero length
const COMPARE = [0x1a, 0x01, 0x61, 0x82, 0x04, 0x00]; // Compare: key "a", range_end (field 64) zero length
const nested = (field: number, body: number[]) => [(field << 3) | 2, body.length, ...body];

describe('range_end sent empty', () => {
  it('Range: every key from key on, as "\\0"', async () => {
    await raw('/etcdserverpb.KV/Range', [...KEY, ...EMPTY_END]);
    expect(seen.range!.range_end).toEqual(Buffer.from([0]));
    await raw('/etcdserverpb.KV/Range', KEY);
    expect(seen.range!.range_end.length).toBe(0);
  });

  it('read-only Txn: its compares and ranges too; a writing Txn keeps one key', async () => {
    const range = nested(1, [...KEY, ...EMPTY_END]); // RequestOp.request_range
    await raw('/etcdserverpb.KV/Txn', [...nested(1, COMPARE), ...nested(2, range)]);
    expect(seen.txn!.compare[0]!.range_end).toEqual(Buffer.from([0]));
    expect(seen.txn!.success[0]!.request_range!.range_end).toEqual(Buffer.from([0]));
    const put = nested(2, KEY); // RequestOp.request_put
    await raw('/etcdserverpb.KV/Txn', [...nested(1, COMPARE), ...nested(2, range), ...nested(2, put)]);
    expect(seen.txn!.compare[0]!.range_end.length).toBe(0);
    expect(seen.txn!.success[0]!.request_range!.range_end.length).toBe(0);
  });
});
