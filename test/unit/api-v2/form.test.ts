// Go's r.ParseForm as etcd 3.4 sees it (cases observed on etcd 3.4.23 with curl).
import { describe, expect, it } from 'vitest';
import { parseForm, queryUnescape, mediaType, FORM_BODY_BYTES_MAX } from '../../../src/api/v2/form.js';
import { parseKeysRequest } from '../../../src/api/v2/keys-request.js';
import { V2Error } from '../../../src/v2store/index.js';

const FORM = 'application/x-www-form-urlencoded';
const formOf = (method: string, q: string, ct?: string, body?: string) => {
  const r = parseForm(method, q, ct, body === undefined ? undefined : Buffer.from(body, 'latin1'));
  return 'error' in r ? r.error : Object.fromEntries(r.form);
};

describe('parseForm', () => {
  it('body values come before query values (first value wins), for PUT/POST/PATCH form bodies only', () => {
    expect(formOf('PUT', 'value=q', FORM, 'value=b&value=c')).toEqual({ value: ['b', 'c', 'q'] });
    expect(formOf('PUT', 'value=q', 'text/plain', 'value=b')).toEqual({ value: ['q'] });
    expect(formOf('PUT', 'value=q', undefined, 'value=b')).toEqual({ value: ['q'] });
    expect(formOf('DELETE', 'a=1', FORM, 'prevValue=zz')).toEqual({ a: ['1'] });
    expect(formOf('PUT', '', `${FORM}; charset=utf-8`, 'value=cs')).toEqual({ value: ['cs'] });
  });

  it('decodes + and %XX as UTF-8 bytes; a bare name is an empty value; empty pairs are skipped', () => {
    expect(formOf('GET', 'a=x+y%20z&b&&c=%C3%A9')).toEqual({ a: ['x y z'], b: [''], c: ['é'] });
    expect(formOf('POST', '', FORM, 'v=\xc3\xa9')).toEqual({ v: ['é'] });
  });

  it('reports Go error texts: bad escapes, semicolons, bad media types, bodies over 10 MiB', () => {
    expect(formOf('GET', '%zz')).toBe('invalid URL escape "%zz"');
    expect(formOf('GET', 'a=%4')).toBe('invalid URL escape "%4"');
    expect(formOf('PUT', '', FORM, 'value=%zz')).toBe('invalid URL escape "%zz"');
    expect(formOf('GET', 'a=1;b=2')).toBe('invalid semicolon separator in query');
    expect(formOf('PUT', '', `${FORM}; =`, 'value=1')).toBe('mime: invalid media parameter');
    expect(formOf('PUT', '', 'a b', 'value=1')).toBe('mime: expected slash after first token');
    expect(formOf('PUT', '', FORM, 'v='.padEnd(FORM_BODY_BYTES_MAX + 1, 'a'))).toBe('http: POST too large');
  });

  it('queryUnescape and mediaType', () => {
    expect(queryUnescape('a%2Fb+c')).toBe('a/b c');
    expect(() => queryUnescape('%')).toThrow('invalid URL escape "%"');
    expect(mediaType(undefined)).toEqual({ type: 'application/octet-stream' });
    expect(mediaType('Application/X-WWW-Form-Urlencoded')).toEqual({ type: FORM });
  });

  it('reads Content-Type as Go 1.19 mime.ParseMediaType (observed on etcd 3.4.23)', () => {
    const cases: [string, string][] = [
      ['json', 'json'], ['A/B', 'a/b'], [' a/b ;', 'a/b'], [`${FORM} ; x=1`, FORM], [`${FORM}; x="a\\"b"`, FORM],
      [`${FORM}; x=1;`, FORM], [`${FORM}; x=1 ;`, FORM], [`${FORM}; x*=utf-8''a`, FORM], [`${FORM};x*=1;x=2`, FORM],
      ['a/b;x=1;\ty=2', 'a/b'],
      ['a/', 'mime: expected token after slash'], ['a/b c', 'mime: unexpected content after media subtype'],
      ['a/b/c', 'mime: unexpected content after media subtype'], [`${FORM}, text/plain`, 'mime: unexpected content after media subtype'],
      ['a@b', 'mime: expected slash after first token'], [';', 'mime: no media type'], ['@', 'mime: no media type'],
      ['a/b;x', 'mime: invalid media parameter'], ['a/b; x=', 'mime: invalid media parameter'],
      ['a/b; x="unterm', 'mime: invalid media parameter'], ['a/b;;', 'mime: invalid media parameter'],
      ['a/b; ; x=1', 'mime: invalid media parameter'], ['a/b;x="1"y', 'mime: invalid media parameter'],
      ['a/b; x=1;;', 'mime: invalid media parameter'], [`${FORM}; x=1 y`, 'mime: invalid media parameter'],
      [`${FORM}; a=\xc3\xa9`, 'mime: invalid media parameter'],
      ['a/b; x=1; X=2', 'mime: duplicate parameter name'], [`${FORM};x=1;x=1`, 'mime: duplicate parameter name'],
      [`${FORM};x*=1;x*=2`, 'mime: duplicate parameter name'],
    ];
    for (const [ct, want] of cases) {
      const r = mediaType(ct);
      expect('error' in r ? r.error : r.type, ct).toBe(want);
    }
    // a lone token is a media type (not a form): the body is ignored, the query read
    expect(formOf('PUT', 'value=q', 'json', 'value=1')).toEqual({ value: ['q'] });
  });
});

const parse = (method: string, q: string) => {
  const r = parseForm(method, q, undefined, undefined);
  if ('error' in r) throw new Error(r.error);
  return parseKeysRequest(method, '/k', r.form);
};
const errOf = (method: string, q: string): string => {
  try {
    parse(method, q);
  } catch (e) {
    return (e as V2Error).serialize();
  }
  return 'no error';
};

describe('parseKeysRequest', () => {
  it('checks fields in etcd order with etcd codes and causes', () => {
    expect(errOf('PUT', 'sorted=maybe&recursive=maybe&prevIndex=z&waitIndex=z&ttl=q'))
      .toBe('{"errorCode":203,"message":"The given index in POST form is not a number","cause":"invalid value for \\"prevIndex\\"","index":0}');
    expect(errOf('PUT', 'prevIndex=')).toContain('"errorCode":203');
    expect(errOf('GET', 'waitIndex=-1')).toContain('invalid value for \\"waitIndex\\"');
    expect(errOf('GET', 'recursive=maybe&ttl=x')).toContain('"errorCode":209,"message":"Invalid field","cause":"invalid value for \\"recursive\\""');
    expect(errOf('PUT', 'wait=true')).toContain('"cause":"\\"wait\\" can only be used with GET requests"');
    expect(errOf('HEAD', 'wait=true')).toContain('"errorCode":209');
    expect(errOf('PUT', 'prevValue=')).toBe('{"errorCode":201,"message":"PrevValue is Required in POST form","cause":"\\"prevValue\\" cannot be empty","index":0}');
    expect(errOf('PUT', 'ttl=-1')).toBe('{"errorCode":202,"message":"The given TTL in POST form is not a number","cause":"invalid value for \\"ttl\\"","index":0}');
    expect(errOf('PUT', 'ttl=18446744073709551616')).toContain('"errorCode":202');
    expect(errOf('PUT', 'prevExist=maybe')).toContain('"cause":"invalid value for prevExist"');
    expect(errOf('PUT', 'refresh=maybe')).toContain('"cause":"invalid value for refresh"');
    expect(errOf('PUT', 'refresh=true&ttl=5&value=z')).toContain('"errorCode":211');
    expect(errOf('PUT', 'refresh=true')).toContain('"errorCode":212');
  });

  it('maps fields to the facade request (Go booleans, empty ttl = none, quorum only for GET)', () => {
    const p = parse('PUT', 'value=v&ttl=&prevExist=T&dir=0&prevIndex=7&refresh=False&noValueOnSuccess=1');
    expect(p.req).toMatchObject({ method: 'PUT', key: '/k', value: 'v', ttlSeconds: undefined, prevExist: true, dir: false, prevIndex: 7, refresh: false });
    // uint64 prevIndex kept exact past 2^53 (etcd prints it in the 101 cause)
    expect(parse('PUT', 'prevIndex=18446744073709551615').req.prevIndex).toBe(18446744073709551615n);
    expect(parse('PUT', 'prevIndex=0009007199254740991').req.prevIndex).toBe(9007199254740991);
    expect(p.noValueOnSuccess).toBe(true);
    expect(parse('GET', 'quorum=true&wait=true').req.quorum).toBe(true);
    expect(parse('GET', 'quorum=true&wait=true').wait).toBe(false); // etcd: a quorum GET ignores wait
    expect(parse('HEAD', 'quorum=true').req).toMatchObject({ method: 'GET', quorum: false });
    expect(parse('PUT', 'refresh=true&ttl=5&value=').req).toMatchObject({ refresh: true, ttlSeconds: 5 });
  });
});
