// Results back to the wire shapes, as etcd 3.4.23 answers them (checked against the real server by
// differential runs of random requests against etcd 3.4.23 over gRPC and the JSON gateway).
import { describe, expect, it } from 'vitest';
import { txnToPb } from '../../../src/server/v3-convert.js';

describe('txnToPb', () => {
  it('nested responses carry only their revision, and a nested txn header stays empty', () => {
    const res = txnToPb(
      {
        succeeded: true,
        revision: 7,
        responses: [
          { put: { revision: 7 } },
          { txn: { succeeded: false, revision: 7, responses: [{ deleteRange: { deleted: 0, prevKvs: [], revision: 7 } }] } },
        ],
      },
      { revision: 7, raft_term: 2 },
    );
    expect(res).toEqual({
      header: { revision: 7, raft_term: 2 },
      succeeded: true,
      responses: [
        { response_put: { header: { revision: 7 } } },
        {
          response_txn: {
            header: {},
            succeeded: false,
            responses: [{ response_delete_range: { header: { revision: 7 }, deleted: 0, prev_kvs: [] } }],
          },
        },
      ],
    });
  });
});
