// Raw clients for bad-input tests: one gRPC call with hand-made frames over node:http2 (the status
// and message it ends with), and raw bytes over a TCP socket (what came back, and how it ended).
import * as http2 from 'node:http2';
import * as net from 'node:net';

/** A 5-byte-prefixed gRPC message: `flag` byte, then `len` (default: the payload's length). */
export function frame(payload: Buffer | string, flag = 0, len?: number): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const f = Buffer.alloc(5 + p.length);
  f[0] = flag;
  f.writeUInt32BE(len ?? p.length, 1);
  p.copy(f, 5);
  return f;
}

/** protobuf length-delimited fields, e.g. pb([1, 'key'], [2, 'value']) for a PutRequest. */
export function pb(...fields: [number, Buffer | string][]): Buffer {
  return Buffer.concat(fields.map(([no, v]) => {
    const b = typeof v === 'string' ? Buffer.from(v) : v;
    if (b.length > 127) throw new Error('short fields only');
    return Buffer.concat([Buffer.from([(no << 3) | 2, b.length]), b]);
  }));
}

export interface GrpcOutcome {
  status: string | undefined;
  message: string | undefined;
  /** Response messages received. */
  messages: number;
}

export interface GrpcRequest {
  path: string;
  frames: Buffer[];
  headers?: http2.OutgoingHttpHeaders;
  /** Sent after the first response message arrives (the stream is open until then). */
  afterFirst?: Buffer;
  /** End our side after the frames (default true). */
  end?: boolean;
}

/** One call; resolves with its status once the stream closes, or after `timeoutMs` (status undefined). */
export function grpcCall(endpoint: string, r: GrpcRequest, timeoutMs = 5000): Promise<GrpcOutcome> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${endpoint}`);
    session.on('error', () => {});
    const req = session.request({ ':method': 'POST', ':path': r.path, 'content-type': 'application/grpc', te: 'trailers', ...r.headers });
    const out: GrpcOutcome = { status: undefined, message: undefined, messages: 0 };
    const status = (h: http2.IncomingHttpHeaders): void => {
      if (h['grpc-status'] === undefined) return;
      out.status = String(h['grpc-status']);
      out.message = decodeURIComponent(String(h['grpc-message'] ?? ''));
    };
    req.on('response', status);
    req.on('trailers', status);
    req.on('data', () => {
      out.messages++;
      if (out.messages === 1 && r.afterFirst !== undefined) req.write(r.afterFirst);
    });
    req.on('error', () => {});
    const timer = setTimeout(() => req.close(), timeoutMs);
    req.on('close', () => {
      clearTimeout(timer);
      session.close();
      resolve(out);
    });
    for (const f of r.frames) req.write(f);
    if (r.end !== false) req.end();
  });
}

export interface RawOutcome {
  reply: string;
  /** 'close' (FIN), an error code such as 'ECONNRESET', or 'open' if still open at the deadline. */
  end: string;
}

/** Raw bytes on a new connection to host:port; what came back until it closed (or `timeoutMs`). */
export function rawExchange(endpoint: string, bytes: string | Buffer, timeoutMs = 3000): Promise<RawOutcome> {
  const [host, port] = endpoint.split(':') as [string, string];
  return new Promise((resolve) => {
    const sock = net.connect(Number(port), host);
    const out: RawOutcome = { reply: '', end: 'open' };
    sock.on('data', (d) => (out.reply += d.toString('latin1')));
    sock.on('end', () => (out.end = 'close'));
    sock.on('error', (e: NodeJS.ErrnoException) => (out.end = e.code ?? 'error'));
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    sock.write(bytes);
  });
}

/** The status line and body of an HTTP reply, without the headers (dates, ids and case differ). */
export function statusAndBody(reply: string): string {
  const head = reply.indexOf('\r\n\r\n');
  const status = reply.slice(0, reply.indexOf('\r\n'));
  return head < 0 ? status : `${status} | ${reply.slice(head + 4)}`;
}
