// The two bidirectional streams of the JSON gateway, over one HTTP/1.1 request each:
//
//   POST /v3/watch  {"create_request":{"key":"Zm9v"}}{"cancel_request":{"watch_id":1}}…
//   → 200 chunked   {"result":{"header":{…},"created":true}}\n{"result":{…,"events":[…]}}\n…
//
// The request body is read as it arrives: every complete JSON value is one request message.
// A watch response stays open after the body ends (as etcd's does) until the client goes away;
// a keepalive response ends once the body has ended and every renewal has been answered.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type {
  CallContext, EtcdServerFacade, WatchBatch, WatchSink, WatchStream,
} from '../../server/facade.js';
import type { WatchRequest__Output } from '../../pb/etcdserverpb/WatchRequest.js';
import type { WatchCreateRequest__Output } from '../../pb/etcdserverpb/WatchCreateRequest.js';
import type { LeaseKeepAliveRequest__Output } from '../../pb/etcdserverpb/LeaseKeepAliveRequest.js';
import { toErrorInfo } from '../v3/errors.js';
import { snapshotMessages } from '../v3/maintenance.js';
import type { JsonCodec, MessageSpec } from './json-codec.js';
import { GatewayDecodeError, parseJsonValue, splitJsonValues } from './json-scan.js';
import { responseHeader, type StreamWriter } from './gateway-io.js';

/** A request message of a stream may not be larger than this (unparsed JSON text held). */
export const STREAM_PENDING_TEXT_MAX = 4 * 1024 * 1024;
/** A watch stream whose socket holds more unsent bytes than this refuses batches (server retries). */
export const WATCH_SEND_BUFFER_BYTES_MAX = 4 * 1024 * 1024;

const GRPC_UNKNOWN = 2;

/**
 * Feeds each complete JSON value of `body` to `onMessage`, in order, awaiting each (`onMessage` may
 * throw GatewayDecodeError for a value it cannot decode). Resolves true when the body ends, or when
 * reading stops at a message that cannot be parsed or decoded after the first one: etcd's gateway
 * then only stops sending (its stream goes on: keepalive ends cleanly, watch keeps delivering). A bad
 * first message, or an oversized one, calls `writer.fail` (gRPC Unknown → 500, as etcd's gateway
 * answers) and resolves false.
 */
export async function forEachJsonMessage(
  body: Readable | IncomingMessage,
  writer: StreamWriter,
  onMessage: (json: unknown) => Promise<void> | void,
): Promise<boolean> {
  let text = '';
  let taken = 0;
  const bad = (message: string): boolean => {
    if (taken > 0) return true;
    writer.fail(GRPC_UNKNOWN, message);
    return false;
  };
  body.setEncoding('utf8');
  for await (const chunk of body) {
    text += chunk as string;
    const { values, rest } = splitJsonValues(text);
    text = text.slice(rest);
    for (const v of values) {
      try {
        await onMessage(parseJsonValue(v));
      } catch (err) {
        if (!(err instanceof GatewayDecodeError)) throw err;
        return bad(err.message);
      }
      taken++;
      if (writer.closed) return false;
    }
    if (text.length > STREAM_PENDING_TEXT_MAX) {
      writer.fail(GRPC_UNKNOWN, 'message too large');
      return false;
    }
  }
  if (text.trim() !== '') return bad('unexpected EOF');
  return true;
}

/** POST /v3/lease/keepalive: one renewal per request message, answered in order. */
export async function serveKeepAlive(
  facade: EtcdServerFacade, codec: JsonCodec, body: Readable, writer: StreamWriter, ctx: CallContext | undefined,
): Promise<void> {
  const reqSpec = codec.message('etcdserverpb.LeaseKeepAliveRequest');
  const respSpec = codec.message('etcdserverpb.LeaseKeepAliveResponse');
  const ok = await forEachJsonMessage(body, writer, async (json) => {
    const req = codec.decode(reqSpec, json) as unknown as LeaseKeepAliveRequest__Output;
    try {
      writer.result(codec.encode(respSpec, await facade.leaseKeepAlive(req, ctx)));
    } catch (err) {
      if ((err as { code?: unknown }).code === 'LeaseNotFound') {
        const h = facade.header();
        writer.result(codec.encode(respSpec, { header: responseHeader(h, h.revision), ID: req.ID, TTL: 0 }));
        return;
      }
      const info = toErrorInfo(err);
      writer.fail(info.grpcCode, info.message, info.httpStatus);
    }
  });
  if (ok) writer.end();
}

/**
 * POST /v3/maintenance/snapshot (a server stream): the backend image in 32 KiB pieces with
 * remaining_bytes counting down, then one message whose blob is the image's sha256; no header.
 */
export async function serveSnapshot(
  facade: EtcdServerFacade, codec: JsonCodec, writer: StreamWriter, ctx: CallContext,
): Promise<void> {
  const spec = codec.message('etcdserverpb.SnapshotResponse');
  for await (const { remaining, blob } of snapshotMessages(await facade.snapshot(ctx))) {
    if (writer.closed) return;
    writer.result(codec.encode(spec, { remaining_bytes: remaining, blob }));
    await writer.drained();
  }
  writer.end();
}

/** POST /v3/watch: one WatchStream of the server per HTTP request. */
export class GatewayWatchSession implements WatchSink {
  private readonly stream: WatchStream;
  private readonly ids = new Set<number>();
  private nextId = 0;
  private readonly respSpec: MessageSpec;

  constructor(
    private readonly facade: EtcdServerFacade,
    private readonly codec: JsonCodec,
    private readonly writer: StreamWriter,
    ctx: CallContext | undefined,
  ) {
    this.respSpec = codec.message('etcdserverpb.WatchResponse');
    this.stream = facade.openWatchStream(this, ctx);
  }

  /** Reads request messages until the body ends; the response stays open for events. */
  async serve(body: Readable): Promise<void> {
    const reqSpec = this.codec.message('etcdserverpb.WatchRequest');
    if (this.stream.ready !== undefined) await this.stream.ready; // the token is being resolved: the body waits
    await forEachJsonMessage(body, this.writer, (json) => {
      this.handle(this.codec.decode(reqSpec, json) as unknown as WatchRequest__Output);
    });
  }

  close(): void {
    this.stream.close();
  }

  send(batch: WatchBatch): boolean {
    if (this.writer.closed) return true; // nobody listens: drop
    if (this.writer.bufferedBytes > WATCH_SEND_BUFFER_BYTES_MAX) return false;
    const resp: Record<string, unknown> = {
      header: responseHeader(this.facade.header(), batch.revision),
      watch_id: batch.watchId,
      events: batch.events,
    };
    if (batch.compactRevision !== 0) {
      resp.header = responseHeader(this.facade.header(), 0); // etcd 3.4 leaves the revision out here
      resp.canceled = true;
      resp.compact_revision = batch.compactRevision; // the id stays taken until the client cancels it, as in etcd
    }
    this.respond(resp);
    return true;
  }

  private handle(req: WatchRequest__Output): void {
    switch (req.request_union) {
      case 'create_request': return this.create(req.create_request as WatchCreateRequest__Output);
      case 'cancel_request': return this.cancel(Number(req.cancel_request?.watch_id ?? 0));
      case 'progress_request': return this.respond({ header: this.header(this.stream.revision()), watch_id: -1 });
      default: return; // an empty request is ignored, as etcd does
    }
  }

  private create(c: WatchCreateRequest__Output): void {
    const wanted = Number(c.watch_id);
    if (wanted !== 0 && this.ids.has(wanted)) return this.reject('mvcc: duplicate watch ID provided on the WatchStream');
    const allKeysFrom = c.range_end.length === 1 && c.range_end[0] === 0;
    if (c.range_end.length > 0 && !allKeysFrom && Buffer.compare(c.key, c.range_end) >= 0) {
      return this.reject('mvcc: watcher range is empty');
    }
    const watchId = wanted !== 0 ? wanted : this.allocateId();
    let rev: number;
    try {
      rev = this.watchOn(watchId, c);
    } catch (err) {
      return this.reject(err instanceof Error ? err.message : String(err));
    }
    this.ids.add(watchId);
    this.respond({ header: this.header(rev), watch_id: watchId, created: true });
  }

  private watchOn(watchId: number, c: WatchCreateRequest__Output): number {
    return this.stream.watch({
      watchId,
      key: c.key.length === 0 ? Buffer.from([0]) : c.key,
      rangeEnd: c.range_end,
      startRevision: Number(c.start_revision),
      noPut: c.filters.includes('NOPUT'),
      noDelete: c.filters.includes('NODELETE'),
      prevKv: c.prev_kv,
      progressNotify: c.progress_notify,
    });
  }

  /** A create request the store refuses: etcd answers created+canceled with watch id -1. */
  private reject(reason: string): void {
    this.respond({ header: this.header(this.stream.revision()), watch_id: -1, created: true, canceled: true, cancel_reason: reason });
  }

  private cancel(watchId: number): void {
    if (!this.stream.cancel(watchId)) return; // unknown id: etcd 3.4 answers nothing
    this.ids.delete(watchId);
    this.respond({ header: this.header(this.stream.revision()), watch_id: watchId, canceled: true });
  }

  private allocateId(): number {
    while (this.ids.has(this.nextId)) this.nextId++;
    return this.nextId++;
  }

  private header(revision: number): object {
    return responseHeader(this.facade.header(), revision);
  }

  private respond(resp: object): void {
    this.writer.result(this.codec.encode(this.respSpec, resp));
  }
}
