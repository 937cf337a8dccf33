// Where a call's auth token comes from: gRPC metadata "token", else "authorization", as etcd 3.4's
// AuthInfoFromCtx reads them (a token of either kind is refused while auth is off: server tests).
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
