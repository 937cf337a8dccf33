// Bytes in and out of the JSON gateway: bounded body reading, unary error bodies, response
// headers built from the facade's HeaderInfo, and the `{"result":…}\n` stream writer.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { HeaderInfo } from '../../server/facade.js';
import { httpStatusOf } from '../v3/errors.js';

/** Reads a whole request body, failing once it exceeds `bodyBytesMax`. */
export async function readBody(body: Readable, bodyBytesMax: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > bodyBytesMax) return undefined;
    chunks.push(b);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
}

/** grpc-gateway's unary error body: `{"error":M,"message":M,"code":N}` (no newline). */
export function errorBody(grpcCode: number, message: string): string {
  const m = JSON.stringify(message);
  return `{"error":${m},"message":${m},"code":${grpcCode}}`;
}

export function sendError(reply: FastifyReply, grpcCode: number, message: string, httpStatus = httpStatusOf(grpcCode)): FastifyReply {
  return reply.code(httpStatus).header('content-type', 'application/json').send(Buffer.from(errorBody(grpcCode, message)));
}

/** A ResponseHeader message (permissive pb shape) for `revision`. */
export function responseHeader(h: HeaderInfo, revision: number): object {
  return { cluster_id: h.clusterId.toString(), member_id: h.memberId.toString(), revision, raft_term: h.raftTerm };
}

const STREAM_HEADERS = { 'content-type': 'application/json', 'grpc-metadata-content-type': 'application/grpc' };

/**
 * Writes one gateway stream response: the head on the first message (so a request that fails
 * before any answer still gets a plain error response), then one `{"result":…}` line per message.
 */
export class StreamWriter {
  private started = false;
  private ended = false;

  /** `baseHeaders`: headers already set on the reply (CORS), copied onto the streamed head. */
  constructor(
    private readonly res: ServerResponse,
    private readonly baseHeaders: Record<string, unknown> = {},
  ) {}

  get closed(): boolean {
    return this.ended || this.res.destroyed || this.res.writableEnded;
  }

  /** Bytes queued on the socket and not yet sent (for back-pressure decisions). */
  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  result(json: object): void {
    if (this.closed) return;
    this.head(200);
    this.res.write(`{"result":${JSON.stringify(json)}}\n`);
  }

  /** A failure: before the first message a plain error response, afterwards a stream error line. */
  fail(grpcCode: number, message: string, httpStatus = httpStatusOf(grpcCode)): void {
    if (this.closed) return;
    if (!this.started) {
      this.started = true;
      const body = errorBody(grpcCode, message);
      this.res.writeHead(httpStatus, {
        ...this.baseHeaders,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      } as Record<string, string>);
      this.res.end(body);
    } else {
      const error = { grpc_code: grpcCode, http_code: httpStatus, message, http_status: statusText(httpStatus) };
      this.res.end(`${JSON.stringify({ error })}\n`);
    }
    this.ended = true;
  }

  /**
   * The stream's first receive failed (grpc-gateway's handleForwardResponseStreamError before any
   * message): the stream head with the error's HTTP status, then the error chunk alone.
   */
  refuse(grpcCode: number, message: string, httpStatus = httpStatusOf(grpcCode)): void {
    if (this.closed) return;
    this.head(httpStatus);
    const error = { grpc_code: grpcCode, http_code: httpStatus, message, http_status: statusText(httpStatus) };
    this.res.end(JSON.stringify({ error }));
    this.ended = true;
  }

  end(): void {
    if (this.closed) return;
    this.head(200);
    this.res.end();
    this.ended = true;
  }

  /** Resolves when the socket has room again (or the response is over). */
  drained(): Promise<void> {
    if (!this.res.writableNeedDrain || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  /** `cb` runs once the response is over: finished, or its connection closed. */
  onClose(cb: () => void): void {
    this.res.once('close', cb);
  }

  /** Server shutdown: end the stream cleanly, then drop the connection (its body may still be open). */
  shutdown(): void {
    const socket = this.res.socket;
    this.end();
    if (socket) this.res.once('finish', () => socket.destroy());
  }

  private head(status: number): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(status, { ...this.baseHeaders, ...STREAM_HEADERS } as Record<string, string>);
  }
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout',
    409: 'Conflict', 412: 'Precondition Failed', 429: 'Too Many Requests', 500: 'Internal Server Error',
    501: 'Not Implemented', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  };
  return texts[status] ?? '';
}
