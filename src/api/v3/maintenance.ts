/** etcdserverpb.Maintenance and etcdserverpb.Cluster. */
import type * as grpc from '@grpc/grpc-js';
import type { EtcdServerFacade, SnapshotSource } from '../../server/facade.js';
import type { MaintenanceHandlers } from '../../pb/etcdserverpb/Maintenance.js';
import type { ClusterHandlers } from '../../pb/etcdserverpb/Cluster.js';
import type { SnapshotRequest__Output } from '../../pb/etcdserverpb/SnapshotRequest.js';
import type { SnapshotResponse } from '../../pb/etcdserverpb/SnapshotResponse.js';
import { fixedPieces } from '../../pkg/bytes.js';
import { varintSize, writeVarint } from '../../pkg/varint.js';
import { inlineSha256, workerSha256, type StreamHash } from '../../platform/sha256-worker.js';
import { abortableCtx, blocking, sizeGuard, unary } from './common.js';
import { toGrpcError } from './errors.js';
import { checkPeerURLs } from './validate.js';

/** Snapshot stream piece size (etcd's snapshotSendBufferSize). */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;
/** From this size the snapshot's sha256 is computed on a worker thread (~150 ms a 164 MB file; a worker takes ~25 ms to start). */
const HASH_WORKER_MIN_BYTES = 32 * 1024 * 1024;

type SnapshotCall = grpc.ServerWritableStream<SnapshotRequest__Output, SnapshotResponse> & {
  /** Our HTTP/2's calls (h2-call.ts): a message as two pieces, the second sent without a copy. */
  writeParts?(head: Buffer, tail: Buffer): boolean;
};

function waitDrain(call: SnapshotCall): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
  });
}

/**
 * SnapshotResponse as etcd's gogoproto Marshal writes it: no header, remaining_bytes (field 2) and
 * blob (field 3) left off when zero or empty. Made by hand: the snapshot is thousands of messages
 * that are all blob, and protobufjs's fromObject/encode costs a copy and several objects each.
 */
export function encodeSnapshotResponse(res: SnapshotResponse): Buffer {
  const remaining = Number(res.remaining_bytes ?? 0);
  const blob = typeof res.blob === 'string' ? Buffer.from(res.blob, 'base64') : (res.blob ?? Buffer.alloc(0));
  return Buffer.concat([snapshotResponseHead(remaining, blob.length), blob]);
}

/** A SnapshotResponse's bytes before its blob's (encodeSnapshotResponse's message is these, then the blob). */
function snapshotResponseHead(remaining: number, blobBytes: number): Buffer {
  const out = Buffer.allocUnsafe((remaining > 0 ? 1 + varintSize(remaining) : 0) + (blobBytes > 0 ? 1 + varintSize(blobBytes) : 0));
  let at = 0;
  if (remaining > 0) {
    out[at++] = 0x10;
    at = writeVarint(out, at, remaining);
  }
  if (blobBytes > 0) {
    out[at++] = 0x1a;
    writeVarint(out, at, blobBytes);
  }
  return out;
}

/** The Maintenance service with Snapshot's responses encoded by encodeSnapshotResponse. */
export function withSnapshotCodec(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const snapshot = def.Snapshot as grpc.MethodDefinition<object, SnapshotResponse>;
  return { ...def, Snapshot: { ...snapshot, responseSerialize: encodeSnapshotResponse } };
}

/**
 * The snapshot's messages as etcd 3.4 sends them, for both servers of it (gRPC here, the JSON
 * gateway): the backend image in 32 KiB pieces, remaining_bytes counting down to 0, then one last
 * message whose blob is the sha256 of the image (etcdctl verifies it; from HASH_WORKER_MIN_BYTES
 * computed on a worker thread); no header.
 */
export async function* snapshotMessages(src: SnapshotSource): AsyncGenerator<{ remaining: number; blob: Buffer }> {
  const hash = src.size >= HASH_WORKER_MIN_BYTES ? workerSha256() : inlineSha256();
  try {
    let remaining = src.size;
    for await (const piece of fixedPieces(hashed(src.chunks, hash), SNAPSHOT_CHUNK_BYTES)) {
      remaining -= piece.length;
      yield { remaining, blob: piece };
    }
    yield { remaining: 0, blob: await hash.digest() };
  } finally {
    hash.close();
  }
}

async function streamSnapshot(facade: EtcdServerFacade, call: SnapshotCall): Promise<void> {
  const src = await facade.snapshot(abortableCtx(call));
  for await (const { remaining, blob } of snapshotMessages(src)) {
    if (call.cancelled) return;
    const ok = call.writeParts !== undefined ? call.writeParts(snapshotResponseHead(remaining, blob.length), blob) : call.write({ remaining_bytes: remaining, blob });
    if (!ok) await waitDrain(call);
  }
  call.end();
}

/** `chunks` as they are, each given to `hash` on the way. */
async function* hashed(chunks: AsyncIterable<Uint8Array>, hash: StreamHash): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    const room = hash.update(c);
    if (room) await room;
    yield c;
  }
}

export function maintenanceHandlers(facade: EtcdServerFacade): MaintenanceHandlers {
  return {
    Alarm: unary((r, ctx) => facade.alarm(r, ctx), sizeGuard),
    Status: unary((r, ctx) => facade.status(r, ctx)),
    Defragment: unary((r, ctx) => facade.defragment(r, ctx)),
    Hash: unary((r, ctx) => facade.hash(r, ctx)),
    HashKV: unary((r, ctx) => facade.hashKV(r, ctx)),
    MoveLeader: unary((r, ctx) => facade.moveLeader(r, ctx)),
    Snapshot: (call) => {
      streamSnapshot(facade, call).catch((err: unknown) => {
        if (!call.cancelled) call.emit('error', toGrpcError(err));
      });
    },
  };
}

export function clusterHandlers(facade: EtcdServerFacade): ClusterHandlers {
  return {
    MemberAdd: unary(
      (r, ctx) => facade.memberAdd(r, ctx),
      (r) => checkPeerURLs(r.peerURLs),
    ),
    MemberRemove: unary((r, ctx) => facade.memberRemove(r, ctx)),
    MemberUpdate: unary(
      (r, ctx) => facade.memberUpdate(r, ctx),
      (r) => checkPeerURLs(r.peerURLs),
    ),
    MemberList: unary((r, ctx) => facade.memberList(r, ctx)),
    // a follower forwards it to the leader until it is answered or the client gives up, as etcd's
    MemberPromote: blocking((r, ctx) => facade.memberPromote(r, ctx)),
  };
}
