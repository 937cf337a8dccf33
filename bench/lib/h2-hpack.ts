// HPACK (RFC 7541) decoding of whole header lists for the probe's JavaScript HTTP/2 (js-h2.ts):
// static table with values, the client's dynamic table (and its size updates), Huffman strings
// (src/platform/hpack.ts's decoder). Names and values come out as latin1 strings.
import { HpackError, huffmanDecode } from '../../src/platform/hpack.js';

/** RFC 7541 Appendix A, index 1..61: "name" or "name=value" (no static name holds '='). */
const STATIC = (
  ':authority|:method=GET|:method=POST|:path=/|:path=/index.html|:scheme=http|:scheme=https|:status=200|' +
  ':status=204|:status=206|:status=304|:status=400|:status=404|:status=500|accept-charset|' +
  'accept-encoding=gzip, deflate|accept-language|accept-ranges|accept|access-control-allow-origin|age|allow|' +
  'authorization|cache-control|content-disposition|content-encoding|content-language|content-length|' +
  'content-location|content-range|content-type|cookie|date|etag|expect|expires|from|host|if-match|' +
  'if-modified-since|if-none-match|if-range|if-unmodified-since|last-modified|link|location|max-forwards|' +
  'proxy-authenticate|proxy-authorization|range|referer|refresh|retry-after|server|set-cookie|' +
  'strict-transport-security|transfer-encoding|user-agent|vary|via|www-authenticate'
).split('|').map((e) => {
  const eq = e.indexOf('=');
  return eq < 0 ? [e, ''] as const : [e.slice(0, eq), e.slice(eq + 1)] as const;
});

/** Our SETTINGS_HEADER_TABLE_SIZE: the default, never announced otherwise. */
const TABLE_MAX = 4096;

export class HpackReader {
  private readonly names: string[] = []; // dynamic table, newest first
  private readonly values: string[] = [];
  private size = 0;
  private maxSize = TABLE_MAX;

  /** The header list of one block as [name, value, name, value, …], the dynamic table updated. */
  decode(block: Buffer): string[] {
    const out: string[] = [];
    const r = { pos: 0 };
    while (r.pos < block.length) {
      const b = block[r.pos]!;
      if (b & 0x80) {
        const i = readInt(block, r, 7);
        out.push(this.name(i), this.value(i));
      } else if ((b & 0xe0) === 0x20) {
        const max = readInt(block, r, 5);
        if (max > TABLE_MAX) throw new HpackError('table size update above the setting');
        this.maxSize = max;
        this.evict(0);
      } else {
        const incremental = (b & 0xc0) === 0x40;
        const i = readInt(block, r, incremental ? 6 : 4);
        const name = i === 0 ? readString(block, r) : this.name(i);
        const value = readString(block, r);
        if (incremental) this.add(name, value);
        out.push(name, value);
      }
    }
    return out;
  }

  private name(i: number): string {
    return i <= STATIC.length ? (i > 0 ? STATIC[i - 1]![0] : bad(i)) : this.names[i - STATIC.length - 1] ?? bad(i);
  }

  private value(i: number): string {
    return i <= STATIC.length ? (i > 0 ? STATIC[i - 1]![1] : bad(i)) : this.values[i - STATIC.length - 1] ?? bad(i);
  }

  private add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.evict(size);
    if (size > this.maxSize) return; // RFC 7541 4.4: the table is left empty
    this.names.unshift(name);
    this.values.unshift(value);
    this.size += size;
  }

  private evict(room: number): void {
    while (this.names.length > 0 && this.size + room > this.maxSize) {
      this.size -= this.names.pop()!.length + this.values.pop()!.length + 32;
    }
  }
}

function bad(i: number): never {
  throw new HpackError(`header index ${i} out of range`);
}

function readInt(buf: Buffer, r: { pos: number }, prefixBits: number): number {
  const max = (1 << prefixBits) - 1;
  let v = buf[r.pos++]! & max;
  if (v < max) return v;
  for (let shift = 0; ; shift += 7) {
    if (r.pos >= buf.length || shift > 28) throw new HpackError('bad integer');
    const b = buf[r.pos++]!;
    v += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return v;
  }
}

function readString(buf: Buffer, r: { pos: number }): string {
  if (r.pos >= buf.length) throw new HpackError('truncated string');
  const huffman = (buf[r.pos]! & 0x80) !== 0;
  const n = readInt(buf, r, 7);
  if (r.pos + n > buf.length) throw new HpackError('truncated string');
  const raw = buf.subarray(r.pos, r.pos + n);
  r.pos += n;
  return (huffman ? huffmanDecode(raw) : raw).toString('latin1');
}

/** A literal field without indexing, new name, plain strings: a block the encoder can reuse as is. */
export function literalBlock(fields: readonly (readonly [string, string])[], status200 = false): Buffer {
  const out: number[] = status200 ? [0x88] : []; // :status 200, static index 8
  for (const [name, value] of fields) {
    out.push(0x00); // literal without indexing, new name
    writeString(out, name);
    writeString(out, value);
  }
  return Buffer.from(out);
}

function writeString(out: number[], s: string): void {
  const b = Buffer.from(s, 'latin1');
  let v = b.length;
  if (v < 0x7f) out.push(v);
  else {
    out.push(0x7f);
    for (v -= 0x7f; v >= 0x80; v = Math.floor(v / 128)) out.push((v % 128) | 0x80);
    out.push(v);
  }
  out.push(...b);
}
