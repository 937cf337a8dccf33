// Seeded generators of bad input for the client port: random bytes, random HTTP/1.1 requests and
// random gRPC calls (headers and 5-byte-prefixed frames). They only aim writes at keys under "fuzz"
// (v3) and /fuzz (v2), and never at what could stop a member of one from serving (member changes,
// alarms, compaction, auth): the test checks that everything else is left as it was.

/** mulberry32: a small seeded generator. */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** Text with a few characters flipped, dropped or inserted. */
  mutate(s: string, edits = 1 + this.int(3)): string {
    let out = s;
    for (let k = 0; k < edits && out.length > 0; k++) {
      const i = this.int(out.length);
      const c = String.fromCharCode(this.int(128));
      const op = this.int(3);
      out = op === 0 ? out.slice(0, i) + c + out.slice(i + 1) : op === 1 ? out.slice(0, i) + out.slice(i + 1) : out.slice(0, i) + c + out.slice(i);
    }
    return out;
  }
}

export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Bytes for a fresh connection: noise, a cut preface, the preface and then noise, or HTTP-looking noise. */
export function randomConnectionBytes(r: Rng): Buffer {
  const noise = r.bytes(r.int(2000));
  switch (r.int(5)) {
    case 0: return noise;
    case 1: return HTTP2_PREFACE.subarray(0, 1 + r.int(HTTP2_PREFACE.length - 1));
    case 2: return Buffer.concat([HTTP2_PREFACE, noise]);
    case 3: return Buffer.from(r.mutate(`GET /${'a'.repeat(r.int(6000))} HTTP/1.1\r\nHost: x\r\n\r\n`, 2), 'latin1');
    default: return Buffer.concat([Buffer.from(r.pick(['GET ', 'PUT /', 'POST / HTTP/1.1\r\n', 'DELETE / HTTP/1.0\n']), 'latin1'), noise]);
  }
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

// [method, path, body templates]: nothing that changes membership, alarms, auth or compacts
const HTTP_ROUTES: readonly [string, string, readonly string[]][] = [
  ['GET', '/health', ['']],
  ['GET', '/version', ['']],
  ['GET', '/metrics', ['']],
  ['POST', '/health', ['{}']],
  ['GET', '/v2/keys/fuzz?recursive=true&sorted=true', ['']],
  ['PUT', '/v2/keys/fuzz/a', ['value=1', 'value=%zz', 'ttl=-1&value=x', 'dir=true', 'value=1&prevExist=false']],
  ['POST', '/v2/keys/fuzz/q', ['value=in-order']],
  ['DELETE', '/v2/keys/fuzz/a', ['', 'recursive=true']],
  ['GET', '/v2/keys/fuzz/a?wait=true&waitIndex=1', ['']],
  ['GET', '/v2/members', ['']],
  ['GET', '/v2/machines', ['']],
  ['GET', '/v2/stats/self', ['']],
  ['POST', '/v3/kv/range', [`{"key":"${b64('data/')}","range_end":"${b64('data0')}"}`, '{"key":"x"}', '[]', '{"limit":"-1"}']],
  ['POST', '/v3/kv/put', [`{"key":"${b64('fuzz/x')}","value":"${b64('v')}"}`, `{"key":"${b64('fuzz/y')}","lease":"7"}`]],
  ['POST', '/v3/kv/txn', [`{"compare":[{"key":"${b64('fuzz/x')}","target":"VALUE","value":"dg=="}],"success":[{"request_put":{"key":"${b64('fuzz/t')}"}}]}`]],
  ['POST', '/v3/watch', [`{"create_request":{"key":"${b64('fuzz/')}"}}`]],
  ['POST', '/v3/lease/grant', ['{"TTL":"60"}']],
  ['POST', '/v3/maintenance/status', ['{}']],
  ['GET', '/%zz', ['']],
  ['OPTIONS', '/v2/keys/fuzz', ['']],
];

const CONTENT_TYPES = ['application/x-www-form-urlencoded', 'application/json', 'text/plain', '', 'multipart/form-data; boundary=x', '\u0001'];

/** One raw HTTP/1.1 request, often malformed; every write it could make lands under fuzz. */
export function randomHttpRequest(r: Rng): Buffer {
  const [method0, path0, bodies] = r.pick(HTTP_ROUTES);
  let body = r.pick(bodies);
  if (r.chance(0.4)) body = r.mutate(body);
  if (r.chance(0.1)) body = r.bytes(r.int(3000)).toString('latin1');
  const method = r.chance(0.05) ? r.pick(['BREW', 'get', 'P\u0000T', '']) : method0;
  let path = path0;
  if (r.chance(0.1)) path += `${path.includes('?') ? '&' : '?'}${r.mutate('wait=true&recursive=false&quorum=true')}`;
  if (r.chance(0.05)) path += 'a'.repeat(r.int(5000));
  const headers: string[] = [];
  if (!r.chance(0.05)) headers.push(`Host: ${r.chance(0.05) ? 'bad host' : '127.0.0.1'}`);
  if (body !== '' || r.chance(0.2)) headers.push(`Content-Type: ${r.pick(CONTENT_TYPES)}`);
  const len = Buffer.byteLength(body, 'latin1');
  if (r.chance(0.1)) {
    headers.push('Transfer-Encoding: chunked');
    body = `${len.toString(16)}\r\n${body}\r\n${r.chance(0.7) ? '0\r\n\r\n' : ''}`;
  } else if (body !== '' || r.chance(0.1)) {
    headers.push(`Content-Length: ${r.chance(0.1) ? r.pick([String(len + 5), String(Math.max(0, len - 3)), 'x', '-1']) : len}`);
  }
  if (r.chance(0.05)) headers.push(`X-Big: ${'b'.repeat(r.int(40_000))}`);
  if (r.chance(0.05)) headers.push(r.mutate('X-Odd: value'));
  headers.push('Connection: close');
  return Buffer.from(`${method} ${path} ${r.chance(0.03) ? 'HTTP/1.7' : 'HTTP/1.1'}\r\n${headers.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}

/** protobuf: a length-delimited field. */
function field(no: number, v: Buffer): Buffer {
  if (v.length > 127) throw new Error('short fields only');
  return Buffer.concat([Buffer.from([(no << 3) | 2, v.length]), v]);
}

const put = field(1, Buffer.from('fuzz/g'));
const GRPC_ROUTES: readonly [string, readonly Buffer[]][] = [
  ['/etcdserverpb.KV/Range', [field(1, Buffer.from('data/')), Buffer.alloc(0)]],
  ['/etcdserverpb.KV/Put', [Buffer.concat([put, field(2, Buffer.from('v'))]), put]],
  ['/etcdserverpb.Watch/Watch', [field(1, field(1, Buffer.from('fuzz/'))), field(3, Buffer.alloc(0))]],
  ['/etcdserverpb.Lease/LeaseGrant', [Buffer.from([0x08, 0x3c])]],
  ['/etcdserverpb.Lease/LeaseKeepAlive', [Buffer.from([0x08, 0x01])]],
  ['/etcdserverpb.Lease/LeaseTimeToLive', [Buffer.from([0x08, 0x01])]],
  ['/etcdserverpb.Maintenance/Status', [Buffer.alloc(0)]],
  ['/etcdserverpb.Maintenance/Hash', [Buffer.alloc(0)]],
  ['/etcdserverpb.Cluster/MemberList', [Buffer.alloc(0)]],
  ['/grpc.health.v1.Health/Check', [Buffer.alloc(0)]],
  ['/etcdserverpb.KV/Nope', [Buffer.alloc(0)]],
];

export interface GrpcCall {
  path: string;
  headers: Record<string, string>;
  frames: Buffer[];
  /** What the client does after its frames: end its side, reset the stream, or leave it open. */
  then: 'end' | 'reset' | 'open';
}

/** A gRPC call with random headers and frames (flag byte, length prefix and payload all at risk). */
export function randomGrpcCall(r: Rng): GrpcCall {
  const [path, payloads] = r.pick(GRPC_ROUTES);
  const headers: Record<string, string> = { 'content-type': r.chance(0.9) ? 'application/grpc' : r.pick(['application/grpc+json', 'text/plain', 'application/grpc-web']), te: 'trailers' };
  if (r.chance(0.1)) headers['grpc-encoding'] = r.pick(['gzip', 'identity', 'deflate', 'x']);
  if (r.chance(0.05)) headers['grpc-timeout'] = r.pick(['1m', '5S', 'soon', '999999999H']);
  const frames: Buffer[] = [];
  for (let n = 1 + r.int(3), i = 0; i < n; i++) {
    let payload = r.chance(0.7) ? Buffer.from(r.pick(payloads)) : r.bytes(r.int(200));
    if (r.chance(0.3) && payload.length > 0) payload[r.int(payload.length)] = r.int(256);
    const flag = r.chance(0.8) ? 0 : r.pick([1, 7, 255]);
    const len = r.chance(0.85) ? payload.length : r.pick([payload.length + 1 + r.int(50), Math.max(0, payload.length - 1), 0xffffffff, 3 << 20]);
    const f = Buffer.alloc(5 + payload.length);
    f[0] = flag;
    f.writeUInt32BE(len >>> 0, 1);
    payload.copy(f, 5);
    frames.push(r.chance(0.1) ? f.subarray(0, r.int(f.length)) : f);
  }
  return { path, headers, frames, then: r.chance(0.7) ? 'end' : r.chance(0.5) ? 'reset' : 'open' };
}
