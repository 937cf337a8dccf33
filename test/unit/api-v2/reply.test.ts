import { describe, expect, it } from 'vitest';
import { httpDate } from '../../../src/api/v2/reply.js';

describe('the Date header', () => {
  it('is the RFC 1123 GMT time of the current second, formatted again when the second changes', () => {
    const t = Date.UTC(2026, 11, 1, 23, 59, 59, 999);
    expect(httpDate(t)).toBe('Tue, 01 Dec 2026 23:59:59 GMT');
    expect(httpDate(t - 998)).toBe('Tue, 01 Dec 2026 23:59:59 GMT');
    expect(httpDate(t + 1)).toBe('Wed, 02 Dec 2026 00:00:00 GMT');
    expect(httpDate(t)).toBe('Tue, 01 Dec 2026 23:59:59 GMT'); // a clock that steps back is followed too
  });
});
