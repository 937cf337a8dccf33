// The body of POST/PUT /v2/members as etcd 3.4.23 reads it (every case below observed with curl
// against etcd 3.4.23: PUT /v2/members/abc -H 'Content-Type: application/json' --data-binary <body>).
import { describe, expect, it } from 'vitest';
import { readPeerUrlsBody } from '../../../src/api/v2/member-body.js';

const msg = (body: string): string => {
  const r = readPeerUrlsBody(Buffer.from(body, 'utf8'));
  return 'urls' in r ? `ok ${r.urls.join(',')}` : r.message;
};
const STRUCT = 'struct { PeerURLs []string "json:\\"peerURLs\\"" }';

describe('members body: Go json.Unmarshal + types.NewURLs', () => {
  it('type errors, case-insensitive key, null and repeated keys', () => {
    const cases: [string, string][] = [
      ['{"peerURLs":"x"}', 'json: cannot unmarshal string into Go struct field .peerURLs of type []string'],
      ['{"peerURLs":[1]}', 'json: cannot unmarshal number into Go struct field .peerURLs of type string'],
      ['{"peerURLs":{}}', 'json: cannot unmarshal object into Go struct field .peerURLs of type []string'],
      ['{"peerURLs":true}', 'json: cannot unmarshal bool into Go struct field .peerURLs of type []string'],
      ['{"peerURLs":[[1]]}', 'json: cannot unmarshal array into Go struct field .peerURLs of type string'],
      ['{"peerURLs":["http://a:1", 2]}', 'json: cannot unmarshal number into Go struct field .peerURLs of type string'],
      ['{"peerURLs":["x"],"peerURLs":"y"}', 'json: cannot unmarshal string into Go struct field .peerURLs of type []string'],
      ['[]', `json: cannot unmarshal array into Go value of type ${STRUCT}`],
      ['"str"', `json: cannot unmarshal string into Go value of type ${STRUCT}`],
      ['1', `json: cannot unmarshal number into Go value of type ${STRUCT}`],
      ['null', 'no valid URLs given'], ['{"peerURLs":null}', 'no valid URLs given'], ['{"peerURLs":[]}', 'no valid URLs given'],
      ['{"peerURLs":[null]}', 'URL scheme must be http, https, unix, or unixs: '],
      ['{"PeerURLs":["http://127.0.0.1:1"]}', 'ok http://127.0.0.1:1'],
      ['{"peerurls":["bad"]}', 'URL scheme must be http, https, unix, or unixs: bad'],
    ];
    for (const [body, want] of cases) expect(msg(body), body).toBe(want);
  });

  it('syntax errors with Go scanner texts (at the end Go feeds a space)', () => {
    const cases: [string, string][] = [
      ['{', 'unexpected end of JSON input'], ['{"a"', 'unexpected end of JSON input'], ['  ', 'unexpected end of JSON input'],
      ['{"a" 1}', "invalid character '1' after object key"],
      ['{"a":1 "b":2}', 'invalid character \'"\' after object key:value pair'],
      ['{,}', "invalid character ',' looking for beginning of object key string"],
      ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
      ['[1,]', "invalid character ']' looking for beginning of value"], ['[1 2]', "invalid character '2' after array element"],
      ['"a\\x"', "invalid character 'x' in string escape code"],
      ['"a\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
      ['-', "invalid character ' ' in numeric literal"], ['01', "invalid character '1' after top-level value"],
      ['1.', "invalid character ' ' after decimal point in numeric literal"], ['1ex', "invalid character 'x' in exponent of numeric literal"],
      ['tru', "invalid character ' ' in literal true (expecting 'e')"], ['falsy', "invalid character 'y' in literal false (expecting 'e')"],
      ['{"a":tx}', "invalid character 'x' in literal true (expecting 'r')"], ["'a'", "invalid character '\\'' looking for beginning of value"],
      ['{"a":"\t"}', "invalid character '\\t' in string literal"], ['{"a":1}x', "invalid character 'x' after top-level value"],
    ];
    for (const [body, want] of cases) expect(msg(body), body).toBe(want);
  });

  it('URL checks: url.Parse errors, scheme, host:port, path', () => {
    const cases: [string, string][] = [
      ['http://a:b', 'parse "http://a:b": invalid port ":b" after host'],
      ['%', 'parse "%": invalid URL escape "%"'],
      ['a\\u0001', 'parse "a\\x01": net/url: invalid control character in URL'],
      ['unix://x', 'URL address does not have the form "host:port": unix://x'],
      ['http:x', 'URL address does not have the form "host:port": http:x'],
      ['http://a:1/', 'URL must not contain a path: http://a:1/'],
      ['é', 'URL scheme must be http, https, unix, or unixs: é'],
      ['HTTP://a:1', 'ok HTTP://a:1'], ['http://a:1?q', 'ok http://a:1?q'], ['http://u@a:1', 'ok http://u@a:1'], ['http://[::1]:1', 'ok http://[::1]:1'],
    ];
    for (const [url, want] of cases) expect(msg(`{"peerURLs":["${url}"]}`), url).toBe(want);
  });
});
