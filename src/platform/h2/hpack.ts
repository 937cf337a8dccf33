// HPACK (RFC 7541) for the JavaScript HTTP/2 server: a decoder of whole header blocks (static table,
// the client's dynamic table and its size updates, Huffman strings through ../hpack.ts), and an
// encoder that writes literal fields without indexing (no dynamic table of ours to keep in step, so
// an encoded block, such as a call's fixed response headers, can be reused as is).
import { HpackError, huffmanDecode, readInt, writeInt } from '../hpack.js';

export { HpackError };

/** RFC 7541 Appendix A, index 1..61, as [name, value]. */
export const STATIC_TABLE: readonly (readonly [string, string])[] = (
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

/** RFC 7541 4.1: an entry's size is its name's and value's octets plus 32. */
const ENTRY_OVERHEAD = 32;
/** The SETTINGS_HEADER_TABLE_SIZE we announce: the default. */
export const DECODER_TABLE_MAX = 4096;

/** A decoded header list: [name, value, name, value, …] (latin1 strings), and its RFC 7540 size. */
export interface HeaderList {
  readonly fields: string[];
  /** Sum of name + value octets + 32 per field: what SETTINGS_MAX_HEADER_LIST_SIZE limits. */
  readonly size: number;
  /** The list went over the limit: `fields` holds only the fields before that. */
  readonly truncated: boolean;
}

export class HpackDecoder {
  private readonly names: string[] = []; // the dynamic table, oldest first (newest at the end)
  private readonly values: string[] = [];
  private size = 0;
  private maxSize = DECODER_TABLE_MAX;

  /**
   * Decode one whole header block, updating the dynamic table as the client's encoder did. Fields
   * past `maxListSize` are counted but not kept (the table is still updated: later blocks need it).
   * Throws HpackError on a malformed block (a connection error: COMPRESSION_ERROR).
   */
  decode(block: Buffer, maxListSize = Infinity): HeaderList {
    const fields: string[] = [];
    const r = { pos: 0 };
    let size = 0;
    let truncated = false;
    let first = true;
    while (r.pos < block.length) {
      const b = block[r.pos]!;
      let name: string;
      let value: string;
      if (b & 0x80) {
        const i = readInt(block, r, 7);
        name = this.name(i);
        value = this.value(i);
      } else if ((b & 0xe0) === 0x20) {
        // RFC 7541 4.2: only at the start of a block
        if (!first) throw new HpackError('dynamic table size update after a field');
        const max = readInt(block, r, 5);
        if (max > DECODER_TABLE_MAX) throw new HpackError('dynamic table size update above the setting');
        this.maxSize = max;
        this.evict(0);
        continue;
      } else {
        const incremental = (b & 0xc0) === 0x40;
        const i = readInt(block, r, incremental ? 6 : 4);
        name = i === 0 ? readString(block, r) : this.name(i);
        value = readString(block, r);
        if (incremental) this.add(name, value);
      }
      first = false;
      size += name.length + value.length + ENTRY_OVERHEAD;
      if (size > maxListSize) truncated = true;
      else fields.push(name, value);
    }
    return { fields, size, truncated };
  }

  private entry(i: number): number {
    if (i === 0) throw new HpackError('header index 0');
    const d = i - STATIC_TABLE.length - 1;
    if (d >= this.names.length) throw new HpackError(`header index ${i} out of range`);
    return this.names.length - 1 - d;
  }

  private name(i: number): string {
    return i <= STATIC_TABLE.length && i > 0 ? STATIC_TABLE[i - 1]![0] : this.names[this.entry(i)]!;
  }

  private value(i: number): string {
    return i <= STATIC_TABLE.length && i > 0 ? STATIC_TABLE[i - 1]![1] : this.values[this.entry(i)]!;
  }

  private add(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    this.evict(size);
    if (size > this.maxSize) return; // RFC 7541 4.4: the table is left empty
    this.names.push(name);
    this.values.push(value);
    this.size += size;
  }

  private evict(room: number): void {
    let n = 0;
    while (n < this.names.length && this.size + room > this.maxSize) {
      this.size -= this.names[n]!.length + this.values[n]!.length + ENTRY_OVERHEAD;
      n++;
    }
    if (n > 0) {
      this.names.splice(0, n);
      this.values.splice(0, n);
    }
  }
}

function readString(buf: Buffer, r: { pos: number }): string {
  if (r.pos >= buf.length) throw new HpackError('truncated string');
  const huffman = (buf[r.pos]! & 0x80) !== 0;
  const n = readInt(buf, r, 7);
  if (r.pos + n > buf.length) throw new HpackError('truncated string');
  const start = r.pos;
  r.pos += n;
  return huffman ? huffmanDecode(buf.subarray(start, start + n)).toString('latin1') : buf.toString('latin1', start, start + n);
}

const STATIC_NAME_INDEX = new Map<string, number>();
STATIC_TABLE.forEach(([name], i) => {
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
});
/** Fields with a name and value both in the static table: written as one indexed byte. */
const STATIC_FIELD_INDEX = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  if (value !== '') STATIC_FIELD_INDEX.set(`${name}\0${value}`, i + 1);
});

function writeString(out: number[], s: string): void {
  writeInt(out, 0, 7, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
}

/**
 * A header block of `fields` ([name, value] pairs, names lower case, values latin1): a static
 * table entry where name and value match one, else a literal without indexing (the name by static
 * index when it has one). No dynamic table is used, so the block can be sent any number of times.
 */
export function encodeHeaders(fields: readonly (readonly [string, string])[]): Buffer {
  const out: number[] = [];
  for (const [name, value] of fields) {
    const full = STATIC_FIELD_INDEX.get(`${name}\0${value}`);
    if (full !== undefined) {
      writeInt(out, 0x80, 7, full);
      continue;
    }
    const ni = STATIC_NAME_INDEX.get(name);
    if (ni !== undefined) writeInt(out, 0x00, 4, ni);
    else {
      out.push(0x00);
      writeString(out, name);
    }
    writeString(out, value);
  }
  return Buffer.from(out);
}

/** A dynamic table size update (RFC 7541 6.3), sent first in a block after the peer lowered its table. */
export function tableSizeUpdate(size: number): Buffer {
  const out: number[] = [];
  writeInt(out, 0x20, 5, size);
  return Buffer.from(out);
}
