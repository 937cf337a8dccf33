// Outgoing HTTP to a peer, over TLS when its URL is https. The stream connections are dedicated
// (one socket each, held open); pipeline and snapshot posts share a keep-alive pool.
import * as http from 'node:http';
import * as https from 'node:https';

/**
 * What a TLS client presents and trusts when dialing peers (platform/peer-tls.ts builds it from the
 * --peer-* settings; rejectUnauthorized is false with --peer-auto-tls, as etcd skips verifying
 * self-signed peers).
 */
export type PeerClientTls = Pick<https.AgentOptions, 'cert' | 'key' | 'ca' | 'ciphers' | 'minVersion' | 'rejectUnauthorized'>;

export interface DialOptions {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** The keep-alive pool to use; undefined: a dedicated connection. */
  pooled: boolean;
  timeoutMs: number;
}

export class Dialer {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  private readonly httpsAgent: https.Agent;

  constructor(private readonly tls: PeerClientTls | undefined) {
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8, ...this.tlsOptions() });
  }

  request(base: string, opts: DialOptions): http.ClientRequest {
    const u = new URL(base);
    const secure = u.protocol === 'https:';
    const common = {
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port || (secure ? 443 : 80),
      method: opts.method,
      path: opts.path,
      headers: opts.headers,
      timeout: opts.timeoutMs,
    };
    if (!secure) return http.request({ ...common, agent: opts.pooled ? this.httpAgent : false });
    return https.request({ ...common, agent: opts.pooled ? this.httpsAgent : false, ...this.tlsOptions() });
  }

  /** One request with a small body, its whole answer read: status, headers and body. */
  exchange(base: string, opts: DialOptions, body?: Uint8Array): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = this.request(base, opts);
      req.on('timeout', () => req.destroy(new Error('i/o timeout')));
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private tlsOptions(): PeerClientTls & Pick<https.RequestOptions, 'checkServerIdentity'> {
    const t = this.tls;
    if (!t) return { rejectUnauthorized: false };
    const o: PeerClientTls & Pick<https.RequestOptions, 'checkServerIdentity'> = { ...t };
    if (t.rejectUnauthorized === false) o.checkServerIdentity = () => undefined; // node asserts it is a function when present
    return o;
  }
}

/** What a peer answered to one request: its status, headers (names in lower case) and whole body. */
export interface PeerAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One GET to a peer URL on a connection of its own, its whole answer read (a joining member's GET /members). */
export async function dialGet(url: string, path: string, tls: PeerClientTls | undefined, timeoutMs: number): Promise<PeerAnswer> {
  const dialer = new Dialer(tls);
  try {
    return await dialer.exchange(url, { method: 'GET', path, headers: {}, pooled: false, timeoutMs });
  } finally {
    dialer.close();
  }
}
