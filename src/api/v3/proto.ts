/**
 * Loads proto/ once (runtime half of src/pb). The options here and in scripts/gen-pb.sh must match:
 *
 *  - keepCase: etcd's field names (`range_end`, `prev_kv`, `ID`, `TTL`, `peerURLs`).
 *  - longs: String. cluster/member/lease ids are uint64/int64 and exceed 2^53, so a JS number
 *    would corrupt them. Decoded int64 fields are decimal strings; convert at the edge:
 *    revisions with Number(s) (they stay far below 2^53), ids with BigInt(s). On encode,
 *    protobufjs accepts number, decimal string or Long (not bigint: pass `id.toString()`).
 *  - enums: String (names such as 'PUT', 'DESCEND'); encode accepts names or numbers.
 *  - bytes: Buffer. defaults: every scalar/repeated field is present after decode (etcd's Go
 *    zero values). oneofs: a virtual field names the set member (`request: 'request_put'`).
 *
 * KV's hot methods bypass protobufjs (kv-codec.ts) but read and write these same object shapes.
 *
 * The proto/ directory sits at the package root (platform/proto-dir.ts finds it). The build writes
 * the parsed root as JSON (protoRootJson, scripts/bundle.mjs); a start uses it when it is not older
 * than proto/ (the same definition, made without parsing the .proto text: ~25 ms less CPU).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as RpcGrpcType } from '../../pb/rpc.js';
import type { ProtoGrpcType as LockGrpcType } from '../../pb/v3lock.js';
import type { ProtoGrpcType as ElectionGrpcType } from '../../pb/v3election.js';
import type { ProtoGrpcType as HealthGrpcType } from '../../pb/health.js';
import protobuf from 'protobufjs';
import { protoDir, readPrebuiltProtoRoot } from '../../platform/proto-dir.js';

export const PROTO_DIR = protoDir;

export const PROTO_FILES = ['rpc.proto', 'v3lock.proto', 'v3election.proto', 'health.proto'] as const;

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

export type EtcdGrpcTypes = RpcGrpcType & LockGrpcType & ElectionGrpcType & HealthGrpcType;

let cached: { definition: protoLoader.PackageDefinition; grpcObject: EtcdGrpcTypes } | undefined;

/** The build's JSON root when it is there and was made from PROTO_FILES (read once). */
let prebuilt: protobuf.INamespace | null | undefined;
function prebuiltRoot(): protobuf.INamespace | undefined {
  if (prebuilt === undefined) {
    const built = readPrebuiltProtoRoot() as { files?: unknown; root?: protobuf.INamespace } | undefined;
    prebuilt = built && JSON.stringify(built.files) === JSON.stringify(PROTO_FILES) && built.root ? built.root : null;
  }
  return prebuilt ?? undefined;
}

function load(): { definition: protoLoader.PackageDefinition; grpcObject: EtcdGrpcTypes } {
  if (cached === undefined) {
    const json = prebuiltRoot();
    const definition = json ? protoLoader.fromJSON(json, PROTO_LOADER_OPTIONS) : protoLoader.loadSync([...PROTO_FILES], PROTO_LOADER_OPTIONS);
    const grpcObject = grpc.loadPackageDefinition(definition) as unknown as EtcdGrpcTypes;
    cached = { definition, grpcObject };
  }
  return cached;
}

let root: protobuf.Root | undefined;

/** The protobufjs root of PROTO_FILES (keepCase), resolved: from the build's JSON, else parsed. */
export function protoRoot(): protobuf.Root {
  if (root === undefined) {
    const json = prebuiltRoot();
    root = json ? protobuf.Root.fromJSON(json) : parseProtoFiles();
    root.resolveAll();
  }
  return root;
}

function parseProtoFiles(): protobuf.Root {
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => `${PROTO_DIR}${target.replace(/^.*\//, '')}`;
  r.loadSync([...PROTO_FILES], { keepCase: true });
  return r;
}

/** The proto-loader package definition (for serializers by full method or message name). */
export function packageDefinition(): protoLoader.PackageDefinition {
  return load().definition;
}

/** Typed service constructors and definitions: `etcdGrpc().etcdserverpb.KV.service`. */
export function etcdGrpc(): EtcdGrpcTypes {
  return load().grpcObject;
}

/** The root proto-loader's loadSync makes from PROTO_FILES, as JSON text with those files' names (the build writes it: see load). */
export function protoRootJson(): string {
  const r = parseProtoFiles();
  r.resolveAll();
  return JSON.stringify({ files: PROTO_FILES, root: r.toJSON() });
}
