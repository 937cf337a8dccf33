// Go's encoding/json syntax errors for gateway bodies, naming the offending byte as Go's quoteChar
// does; each expectation is etcd 3.4.23's answer to the same body on POST /v3/kv/range (2026-12-06).
import { describe, expect, it } from 'vitest';
import { goJsonSyntaxError } from '../../../src/api/http/json-syntax.js';

describe('goJsonSyntaxError', () => {
  it.each([
    ['x', "invalid character 'x' looking for beginning of value"],
    ['{', 'unexpected EOF'],
    ['{"key":"Zm9v",}', "invalid character '}' looking for beginning of object key string"],
    ['{"a":1 "b":2}', 'invalid character \'"\' after object key:value pair'],
    ["{'key':1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"key":"\\u00zz"}', "invalid character 'z' in \\u hexadecimal character escape"],
    ['\u0001', "invalid character '\\x01' looking for beginning of value"],
    ['\u007f', "invalid character '\\x7f' looking for beginning of value"],
    ['\u000b', "invalid character '\\v' looking for beginning of value"],
    ['\u0007', "invalid character '\\a' looking for beginning of value"],
    ['\\', "invalid character '\\\\' looking for beginning of value"],
    ['[1,\u0002]', "invalid character '\\x02' looking for beginning of value"],
    ['{"key":"a\u0001"}', "invalid character '\\x01' in string literal"],
    // Go's scanner reads bytes: the first byte of a multi-byte character, as a rune of its value
    ['é', "invalid character 'Ã' looking for beginning of value"],
    ['{é}', "invalid character 'Ã' looking for beginning of object key string"],
    ['\u0085', "invalid character 'Â' looking for beginning of value"],
  ])('%j: %s', (body, text) => {
    expect(goJsonSyntaxError(body)).toBe(text);
  });
});
