// Go's encoding/json text for strings, shared where our bytes must be exactly what etcd (Go 1.19)
// writes: the v2 store's JSON, member JSON in conf-change contexts and publications.

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t',
  '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;
// eslint-disable-next-line no-control-regex
const ESCAPE_ALL = /["\\\u0000-\u001f<>&\u2028\u2029]|[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]/g;

/**
 * A JSON string literal exactly as Go's encoding/json writes it: escapes < > & U+2028 U+2029 as
 * \u003c \u003e \u0026 \u2028 \u2029, control characters other than \n \r \t as \u00XX, and
 * replaces ill-formed text (lone surrogates) with \ufffd.
 */
export function goJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  return `"${s.replace(ESCAPE_ALL, (c) => {
    if (c.length === 2) return c; // a well-formed surrogate pair
    const known = ESCAPES[c];
    if (known !== undefined) return known;
    const code = c.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdfff) return '\\ufffd';
    return `\\u${code.toString(16).padStart(4, '0')}`;
  })}"`;
}
