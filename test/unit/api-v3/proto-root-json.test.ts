// The build's JSON root (dist/proto-root.json, scripts/bundle.mjs) gives the same package definition
// as parsing proto/ with loadSync: the message and enum descriptors the gateway's JSON codec and the
// gogo checks read, and every method's path, streaming and (de)serialisers. Only fileDescriptorProtos
// (for gRPC reflection, which is not served) differ: a root from JSON has no file names.
import * as protoLoader from '@grpc/proto-loader';
import type protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { PROTO_FILES, PROTO_LOADER_OPTIONS, protoRootJson } from '../../../src/api/v3/proto.js';

type Def = Record<string, unknown>;

function comparable(def: protoLoader.PackageDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(def)) {
    const x = d as Def;
    if (typeof x.format === 'string') out[name] = { format: x.format, type: x.type };
    else {
      const methods: Record<string, unknown> = {};
      for (const [m, md] of Object.entries(x as Record<string, Def>)) {
        methods[m] = { path: md.path, requestStream: md.requestStream, responseStream: md.responseStream, originalName: md.originalName,
          request: (md.requestType as Def).type, response: (md.responseType as Def).type };
      }
      out[name] = methods;
    }
  }
  return out;
}

describe('the JSON proto root', () => {
  const fromText = protoLoader.loadSync([...PROTO_FILES], PROTO_LOADER_OPTIONS);
  const built = JSON.parse(protoRootJson()) as { files: string[]; root: protobuf.INamespace };
  const fromJson = protoLoader.fromJSON(built.root, PROTO_LOADER_OPTIONS);

  it('gives the definition loadSync gives from the .proto files', () => {
    expect(built.files).toEqual([...PROTO_FILES]);
    expect(Object.keys(fromJson).sort()).toEqual(Object.keys(fromText).sort());
    expect(Object.keys(fromText).length).toBeGreaterThan(100);
    expect(comparable(fromJson)).toEqual(comparable(fromText));
  });

  it('encodes and decodes as loadSync does (a txn request, oneofs, int64 as strings, bytes as Buffers)', () => {
    const put = (def: protoLoader.PackageDefinition) => (def['etcdserverpb.KV'] as unknown as Record<string, Def>).Txn!;
    const req = { compare: [{ key: Buffer.from('k'), target: 'MOD', result: 'LESS', mod_revision: '9007199254740993' }],
      success: [{ request_put: { key: Buffer.from('a'), value: Buffer.from('b'), lease: '-1' } }], failure: [] };
    const a = (put(fromText).requestSerialize as (v: unknown) => Buffer)(req);
    const b = (put(fromJson).requestSerialize as (v: unknown) => Buffer)(req);
    expect(b).toEqual(a);
    expect((put(fromJson).requestDeserialize as (v: Buffer) => unknown)(a)).toEqual((put(fromText).requestDeserialize as (v: Buffer) => unknown)(a));
  });
});
