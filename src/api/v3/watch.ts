/**
 * etcdserverpb.Watch: one bidirectional stream multiplexing many watchers, as etcd's watch server.
 *
 * Client -> server: create_request (key, range_end, start_revision, filters, prev_kv,
 * progress_notify, watch_id, fragment) | cancel_request {watch_id} | progress_request {}.
 * Server -> client, in this order per watcher: {created, watch_id} (header revision = store
 * revision at creation; on failure also canceled + cancel_reason and watch_id -1), then event
 * batches, then either {canceled} (after a cancel request) or {canceled, compact_revision} (the
 * start revision was compacted). A progress_request is answered with watch_id -1 and the store
 * revision, once every watcher of the stream has been sent everything up to it; a progress
 * notification of a progress_notify watcher carries its watch_id and no events.
 * Example: create{key:"foo", watch_id:0} -> {created, watch_id:0, header.revision:5};
 * put foo at 6 -> {watch_id:0, header.revision:6, events:[PUT foo mod 6]}.
 */
import { status as Status } from '@grpc/grpc-js';
import type { EtcdServerFacade, WatchBatch, WatchSink, WatchStream } from '../../server/facade.js';
import type { WatchHandlers } from '../../pb/etcdserverpb/Watch.js';
import type { WatchRequest__Output } from '../../pb/etcdserverpb/WatchRequest.js';
import type { WatchResponse } from '../../pb/etcdserverpb/WatchResponse.js';
import type { WatchCreateRequest__Output } from '../../pb/etcdserverpb/WatchCreateRequest.js';
import type { Event } from '../../pb/mvccpb/Event.js';
import { type ApiLimits, GRPC_OVERHEAD_BYTES, HeaderMaker, type PeerAuthContext, ctxOf, grpcRefusal } from './common.js';
import { encodeWatchResponse, watchEventsField, watchEventsHead } from './watch-lease-codec.js';
import { mark, Stage, TRACE_PUT } from '../../pkg/put-trace.js';

/** Responses queued in a stream's send buffer before the server is told to hold (etcd: chanBufLen). */
export const WATCH_SEND_QUEUE_MAX = 128;

/**
 * What the watch server uses of its call: grpc-js's ServerDuplexStream, or the short path's
 * StreamCall (stream-call.ts), which writes the responses of one event-loop turn at once.
 */
export interface WatchCall {
  readonly metadata: { get(key: string): (string | Buffer)[] };
  getAuthContext?(): PeerAuthContext | null;
  /** Responses written but not yet taken by the transport. */
  readonly writableLength: number;
  write(res: WatchResponse): unknown;
  /**
   * A message already framed, in two pieces sent one after the other (h2-call.ts; absent on grpc-js):
   * the watch server's live events, whose shared bytes are not copied per response.
   */
  writeFramed?(head: Buffer, tail: Buffer): void;
  on(event: 'data', listener: (req: WatchRequest__Output) => void): unknown;
  on(event: 'cancelled' | 'error', listener: () => void): unknown;
  emit(event: 'error', err: unknown): boolean;
}

interface WatcherState {
  readonly fragment: boolean;
  /** Batches that arrived before the "created" response was written. */
  pending: WatchBatch[] | undefined;
}

const EMPTY_RANGE = 'mvcc: watcher range is empty';
const DUPLICATE_ID = 'mvcc: duplicate watch ID provided on the WatchStream';
const ZERO_KEY = Buffer.from([0]);
/** Requests held while a stream's token is verified (a client that floods before that is cut). */
export const WATCH_HELD_MAX = 1024;

/** The size on the wire, as etcd's Size() (the encoder the Watch service uses). */
function encodedSize(r: WatchResponse): number {
  return encodeWatchResponse(r).length;
}

/**
 * etcd's sendFragments: a response at or above maxBytes with 2+ events is cut into pieces, each
 * as large as fits (at least one event), all but the last flagged fragment.
 */
export function fragmentResponse(r: WatchResponse, maxBytes: number): WatchResponse[] {
  const events = r.events ?? [];
  if (events.length < 2 || encodedSize(r) < maxBytes) return [r];
  const base = encodedSize({ ...r, events: [], fragment: true });
  const out: WatchResponse[] = [];
  let cur: Event[] = [];
  let size = base;
  for (const ev of events) {
    const evSize = encodedSize({ events: [ev] });
    if (cur.length > 0 && size + evSize >= maxBytes) {
      out.push({ ...r, events: cur, fragment: true });
      cur = [];
      size = base;
    }
    cur.push(ev);
    size += evSize;
  }
  out.push({ ...r, events: cur, fragment: false });
  return out;
}

export class WatchServerStream implements WatchSink {
  private readonly watchers = new Map<number, WatcherState>();
  private readonly stream: WatchStream;
  private nextId = 0;
  private closed = false;
  /** Requests that arrived while the stream's identity was resolved (at most WATCH_HELD_MAX). */
  private held: WatchRequest__Output[] | undefined;

  constructor(
    private readonly call: WatchCall,
    facade: EtcdServerFacade,
    private readonly headers: HeaderMaker,
    private readonly limits: ApiLimits,
  ) {
    this.stream = facade.openWatchStream(this, ctxOf(call));
    const ready = this.stream.ready;
    if (ready !== undefined) {
      // the stream's identity is being resolved: its requests wait, in order
      const held: WatchRequest__Output[] = [];
      this.held = held;
      void ready.finally(() => {
        this.held = undefined;
        for (const r of held) this.onRequest(r);
      });
    }
    call.on('data', (req: WatchRequest__Output) => (this.held === undefined ? this.onRequest(req) : this.hold(req)));
    // A client that half-closes keeps receiving events (etcd's recv loop returns on EOF but the
    // stream lives until the client cancels); only cancellation or a transport error ends it.
    call.on('cancelled', () => this.close());
    call.on('error', () => this.close());
  }

  private hold(req: WatchRequest__Output): void {
    if (this.held!.length >= WATCH_HELD_MAX) {
      this.close();
      this.call.emit('error', { code: Status.RESOURCE_EXHAUSTED, details: 'too many watch requests before the stream was authenticated' });
      return;
    }
    this.held!.push(req);
  }

  /** WatchSink: called by the server. */
  send(batch: WatchBatch): boolean {
    if (this.closed) return true; // nobody listens any more; drop
    if (batch.watchId === -1) {
      // the answer to a progress request, for the whole stream
      if (this.call.writableLength >= WATCH_SEND_QUEUE_MAX) return false;
      this.call.write({ header: this.headers.make(batch.revision), watch_id: -1 });
      return true;
    }
    const w = this.watchers.get(batch.watchId);
    if (w === undefined) return true; // canceled meanwhile
    if (w.pending !== undefined) {
      w.pending.push(batch);
      return true;
    }
    if (this.call.writableLength >= WATCH_SEND_QUEUE_MAX) return false;
    this.write(batch, w);
    return true;
  }

  private write(batch: WatchBatch, w: WatcherState): void {
    const call = this.call;
    if (TRACE_PUT) mark(Stage.watchSend);
    if (call.writeFramed !== undefined && batch.compactRevision === 0 && !(w.fragment && batch.events.length > 1)) {
      // live events or a progress notification: the header, the id and the shared events' bytes
      const tail = watchEventsField(batch.events);
      const head = watchEventsHead(this.headers.make(batch.revision), batch.watchId, tail.length);
      if (head !== undefined) return call.writeFramed(head, tail);
    }
    const res: WatchResponse = {
      header: this.headers.make(batch.revision),
      watch_id: batch.watchId,
      events: batch.events,
    };
    if (batch.compactRevision !== 0) {
      res.compact_revision = batch.compactRevision;
      res.canceled = true; // the id stays taken until the client cancels it, as in etcd
    }
    if (w.fragment && batch.events.length > 1) {
      // etcd's watch server fragments at max-request-bytes + the gRPC overhead (its maxRequestBytes)
      for (const piece of fragmentResponse(res, this.limits.maxRequestBytes + GRPC_OVERHEAD_BYTES)) this.call.write(piece);
    } else {
      this.call.write(res);
    }
  }

  private onRequest(req: WatchRequest__Output): void {
    if (this.closed) return;
    const refused = grpcRefusal(req);
    if (refused !== undefined) {
      this.close();
      this.call.emit('error', refused);
      return;
    }
    switch (req.request_union) {
      case 'create_request':
        this.create(req.create_request!);
        return;
      case 'cancel_request':
        this.cancel(Number(req.cancel_request!.watch_id));
        return;
      case 'progress_request':
        if (this.stream.requestProgress) this.stream.requestProgress();
        else this.call.write({ header: this.headers.make(this.stream.revision()), watch_id: -1 });
        return;
      default:
        return; // an empty request is ignored, as etcd does
    }
  }

  private create(c: WatchCreateRequest__Output): void {
    const key = c.key.length === 0 ? ZERO_KEY : c.key;
    const rangeEnd = c.range_end;
    const wsrev = this.stream.revision();
    const startRevision = c.start_revision === '0' ? wsrev + 1 : Number(c.start_revision);
    let id = Number(c.watch_id);
    let error: string | undefined;
    if (rangeEnd.length !== 0 && !rangeEnd.equals(ZERO_KEY) && Buffer.compare(key, rangeEnd) >= 0) {
      error = EMPTY_RANGE;
    } else if (id === 0) {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.watchers.has(id)) {
      error = DUPLICATE_ID;
    }
    if (error !== undefined) {
      this.call.write({ header: this.headers.make(wsrev), watch_id: -1, created: true, canceled: true, cancel_reason: error });
      return;
    }
    const state: WatcherState = { fragment: c.fragment, pending: [] };
    this.watchers.set(id, state);
    try {
      this.register(id, key, rangeEnd, startRevision, c);
    } catch (err) {
      this.watchers.delete(id);
      const reason = err instanceof Error ? err.message : String(err);
      this.call.write({ header: this.headers.make(wsrev), watch_id: -1, created: true, canceled: true, cancel_reason: reason });
      return;
    }
    this.call.write({ header: this.headers.make(wsrev), watch_id: id, created: true });
    const pending = state.pending!;
    state.pending = undefined;
    for (const b of pending) {
      if (this.watchers.get(id) !== state) break; // canceled meanwhile
      this.write(b, state);
    }
  }

  private register(id: number, key: Buffer, rangeEnd: Buffer, startRevision: number, c: WatchCreateRequest__Output): void {
    this.stream.watch({
      watchId: id,
      key,
      rangeEnd,
      startRevision,
      noPut: c.filters.includes('NOPUT'),
      noDelete: c.filters.includes('NODELETE'),
      prevKv: c.prev_kv,
      progressNotify: c.progress_notify,
    });
  }

  private cancel(id: number): void {
    if (!this.watchers.has(id)) return;
    this.watchers.delete(id);
    if (this.stream.cancel(id)) {
      this.call.write({ header: this.headers.make(this.stream.revision()), watch_id: id, canceled: true });
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watchers.clear();
    this.stream.close();
  }
}

export function watchHandlers(facade: EtcdServerFacade, limits: ApiLimits): WatchHandlers {
  const headers = new HeaderMaker(facade);
  return {
    Watch: (call) => {
      new WatchServerStream(call as WatchCall, facade, headers, limits);
    },
  };
}
