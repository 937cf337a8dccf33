// Where a call's auth token comes from: gRPC metadata "token", else "authorization", as etcd 3.4's
// AuthInfoFromCtx reads them (a token of either kind is refused while auth is off: server tests);
// and its client certificate's common name, as AuthInfoFromTLS reads it.
import { describe, expect, it } from 'vitest';
import { abortableCtx, ctxOf } from '../../../src/api/v3/common.js';

const callWith = (md: Record<string, string>) => ({
  metadata: { get: (k: string) => (k in md ? [md[k]!] : []) },
  on: () => undefined,
});

describe('auth token metadata', () => {
  it('is read from "token", else from "authorization"', () => {
    expect(ctxOf(callWith({}) as never)).toBeUndefined();
    expect(ctxOf(callWith({ token: 't' }) as never)).toEqual({ token: 't' });
    expect(ctxOf(callWith({ authorization: 'a' }) as never)).toEqual({ token: 'a' });
    expect(ctxOf(callWith({ token: 't', authorization: 'a' }) as never)).toEqual({ token: 't' });
  });

  it('is carried by the abortable context of blocking calls too', () => {
    expect(abortableCtx(callWith({ authorization: 'a' }) as never).token).toBe('a');
    expect(abortableCtx(callWith({}) as never).token).toBeUndefined();
  });
});

describe('client certificate common name', () => {
  const withCert = (md: Record<string, string>, subject: { CN?: string | string[] } | undefined) => ({
    ...callWith(md),
    getAuthContext: () => (subject === undefined ? {} : { sslPeerCertificate: { subject } }),
  });

  it('is the verified certificate\'s CN, beside the token', () => {
    expect(ctxOf(withCert({}, { CN: 'alice' }) as never)).toEqual({ commonName: 'alice' });
    expect(ctxOf(withCert({ token: 't' }, { CN: 'alice' }) as never)).toEqual({ token: 't', commonName: 'alice' });
    expect(ctxOf(withCert({}, { CN: ['alice', 'bob'] }) as never)).toEqual({ commonName: 'alice' });
    expect(abortableCtx(withCert({}, { CN: 'alice' }) as never).commonName).toBe('alice');
  });

  it('is empty for a certificate without a CN (etcd then checks user ""), absent without a certificate or through a gateway', () => {
    expect(ctxOf(withCert({}, {}) as never)).toEqual({ commonName: '' });
    expect(ctxOf(withCert({}, undefined) as never)).toBeUndefined();
    expect(ctxOf(withCert({ 'grpcgateway-accept': 'application/json' }, { CN: 'root' }) as never)).toBeUndefined();
  });
});
