// Randomized: a restricted user's roles get random key, range, prefix and from-key permissions; a few
// thousand random requests (single keys, ranges, from-key ranges; READ and WRITE) are asked of the
// auth store and compared with a brute-force model over every key of a finite universe. The universe
// (keys of up to 4 bytes over \0, a, b, and the prefix ends of those up to 3 bytes) holds every
// permission and request endpoint (keys up to 3 bytes, their prefix ends, and k+"\0"), so the smallest
// key a request leaves uncovered, a request's start or a permission's end, is in it: the model is
// exact. None outside the permissions may pass, none inside may be refused.
import { describe, expect, it } from 'vitest';
import { AuthError, AuthStore } from '../../../src/auth/index.js';
import { compareBytes, prefixEnd } from '../../../src/pkg/bytes.js';
import { rng } from '../mvcc/helpers.js';
import { MemBackend } from './helpers.js';

const ALPHABET = [0, 0x61, 0x62];

function universe(maxLen: number): Buffer[] {
  const out: Buffer[] = [Buffer.alloc(0)];
  let level: Buffer[] = [Buffer.alloc(0)];
  for (let n = 1; n <= maxLen; n++) {
    level = level.flatMap((p) => ALPHABET.map((c) => Buffer.concat([p, Buffer.from([c])])));
    out.push(...level);
  }
  return out.sort(compareBytes);
}

interface Interval {
  begin: Buffer;
  end: Buffer | 'inf';
}

const within = (k: Buffer, i: Interval): boolean => compareBytes(k, i.begin) >= 0 && (i.end === 'inf' || compareBytes(k, i.end) < 0);

describe('random requests as a restricted user against a brute-force model', () => {
  it.each([1, 2, 3])('seed %i: 3000 requests, none outside the permissions passes, none inside is refused', async (seed) => {
    const rand = rng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const short = universe(3).filter((k) => k.length > 0);
    // every key of up to 4 bytes, and every endpoint a permission or request can have (prefix ends)
    const keys = [...universe(4), ...short.map((k) => prefixEnd(k))];
    const s = await AuthStore.open(new MemBackend(), { bcryptCost: 4 });
    s.userAdd({ name: 'root', password: 'x' });
    s.userGrantRole('root', 'root');
    s.userAdd({ name: 'u', password: 'x' });
    const grants = new Map<string, { iv: Interval; permType: 'READ' | 'WRITE' | 'READWRITE' }>();
    for (let r = 0; r < 3; r++) {
      const role = `r${r}`;
      s.roleAdd(role);
      s.userGrantRole('u', role);
      for (let p = 0; p < 1 + Math.floor(rand() * 4); p++) {
        const key = pick(short);
        const kind = pick(['key', 'range', 'prefix', 'from']);
        let rangeEnd: Buffer = Buffer.alloc(0);
        let iv: Interval = { begin: key, end: Buffer.concat([key, Buffer.from([0])]) };
        if (kind === 'range') {
          const end = pick(short.filter((e) => compareBytes(e, key) > 0).concat([Buffer.concat([key, Buffer.from([0])])]));
          rangeEnd = end;
          iv = { begin: key, end };
        } else if (kind === 'prefix') {
          rangeEnd = prefixEnd(key);
          iv = { begin: key, end: rangeEnd.length === 0 || (rangeEnd.length === 1 && rangeEnd[0] === 0) ? 'inf' : rangeEnd };
        } else if (kind === 'from') {
          rangeEnd = Buffer.from([0]);
          iv = { begin: key, end: 'inf' };
        }
        const permType = pick(['READ', 'WRITE', 'READWRITE'] as const);
        s.roleGrantPermission(role, { permType, key, rangeEnd });
        // a regrant of the same key and range end in a role replaces its type
        grants.set(`${role}|${key.toString('hex')}|${rangeEnd.toString('hex')}`, { iv, permType });
      }
    }
    const model = {
      READ: [...grants.values()].filter((g) => g.permType !== 'WRITE').map((g) => g.iv),
      WRITE: [...grants.values()].filter((g) => g.permType !== 'READ').map((g) => g.iv),
    };
    s.authEnable();
    const ai = { username: 'u', revision: s.revision };
    let passed = 0;
    for (let n = 0; n < 3000; n++) {
      const type = pick(['READ', 'WRITE'] as const);
      const key = pick(short);
      const form = pick(['key', 'range', 'from']);
      let rangeEnd: Buffer | undefined;
      let request: Interval = { begin: key, end: Buffer.concat([key, Buffer.from([0])]) };
      if (form === 'range') {
        rangeEnd = pick(short.filter((e) => compareBytes(e, key) > 0).concat([Buffer.concat([key, Buffer.from([0])])]));
        request = { begin: key, end: rangeEnd };
      } else if (form === 'from') {
        rangeEnd = Buffer.from([0]);
        request = { begin: key, end: 'inf' };
      }
      const covered = keys.filter((k) => within(k, request)).every((k) => model[type].some((iv) => within(k, iv)));
      let got = true;
      try {
        if (type === 'READ') s.isRangePermitted(ai, key, rangeEnd);
        else if (rangeEnd === undefined) s.isPutPermitted(ai, key);
        else s.isDeleteRangePermitted(ai, key, rangeEnd);
      } catch (e) {
        if (!(e instanceof AuthError) || e.code !== 'PermissionDenied') throw e;
        got = false;
      }
      const what = `${type} ${key.toString('hex')}..${rangeEnd?.toString('hex') ?? ''}`;
      expect(got, what).toBe(covered);
      if (got) passed++;
    }
    // both outcomes were exercised
    expect(passed).toBeGreaterThan(50);
    expect(passed).toBeLessThan(2950);
  });
});
