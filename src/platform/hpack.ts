// HPACK (RFC 7541) header block reading, for the one rewrite the client port needs (h2-authority.ts):
// a decoder that follows the client's dynamic table and can replace the value of a literal
// `:authority` field by another of the same length, leaving every other byte of the block as it was.
// Same length keeps the server's dynamic table (whose entry sizes count decoded octets) in step with
// the client's encoder, so later blocks that refer to the entry by index stay right.
//
// The Huffman code is RFC 7541 Appendix B, which is canonical: codes of equal length are consecutive
// and ordered by symbol, so each symbol's code length (below, one letter per symbol 0..256 with
// 'a' = 5 bits) determines the whole code.

export class HpackError extends Error {}

const CODE_LENGTHS =
  'isxxxxxxxtzxxzxxxxxxxxzxxxxxxxxxbffhibdgffdgdbbbaaabbbbbbbcdkbhfibccccccccccccccccccccccdcdioijbkabababbbaccbbbabcbaabccccckgjix' +
  'prpprrrsrssssststtrstssssqrsrsstrqprrssqsrrtqrssqqrqsrssprrrsrrsvvporsruvvvwwvtuoqvwwvwtqqvvxwwwptpqrqqsrruuttvsvwvvwwwwwxwwwwwvz';

/** For each code length: the first code, how many codes, and where its symbols start in SYMBOLS. */
const FIRST: number[] = [];
const COUNT: number[] = [];
const OFFSET: number[] = [];
const SYMBOLS: number[] = [];
(() => {
  const len = [...CODE_LENGTHS].map((c) => c.charCodeAt(0) - 92);
  const order = [...len.keys()].sort((a, b) => len[a]! - len[b]! || a - b);
  let code = 0;
  let prev = len[order[0]!]!;
  order.forEach((sym, i) => {
    const l = len[sym]!;
    if (i > 0) code = (code + 1) * 2 ** (l - prev);
    prev = l;
    if (COUNT[l] === undefined) {
      FIRST[l] = code;
      COUNT[l] = 0;
      OFFSET[l] = i;
    }
    COUNT[l]!++;
    SYMBOLS.push(sym);
  });
})();
const EOS = 256;

export function huffmanDecode(src: Buffer): Buffer {
  const out: number[] = [];
  let code = 0;
  let bits = 0;
  for (const byte of src) {
    for (let b = 7; b >= 0; b--) {
      code = code * 2 + ((byte >> b) & 1);
      bits++;
      const n = COUNT[bits];
      if (n === undefined || code - FIRST[bits]! >= n || code < FIRST[bits]!) {
        if (bits > 30) throw new HpackError('invalid Huffman code');
        continue;
      }
      const sym = SYMBOLS[OFFSET[bits]! + code - FIRST[bits]!]!;
      if (sym === EOS) throw new HpackError('Huffman EOS in a string');
      out.push(sym);
      code = 0;
      bits = 0;
    }
  }
  // what is left must be a prefix of EOS (all ones), shorter than a byte
  if (bits > 7 || code !== 2 ** bits - 1) throw new HpackError('invalid Huffman padding');
  return Buffer.from(out);
}

/** RFC 7541 Appendix A: the static table's names (index 1..61); values are not needed here. */
const STATIC_NAMES = (
  ':authority :method :method :path :path :scheme :scheme :status :status :status :status :status :status :status ' +
  'accept-charset accept-encoding accept-language accept-ranges accept access-control-allow-origin age allow ' +
  'authorization cache-control content-disposition content-encoding content-language content-length ' +
  'content-location content-range content-type cookie date etag expect expires from host if-match ' +
  'if-modified-since if-none-match if-range if-unmodified-since last-modified link location max-forwards ' +
  'proxy-authenticate proxy-authorization range referer refresh retry-after server set-cookie ' +
  'strict-transport-security transfer-encoding user-agent vary via www-authenticate'
).split(' ');

interface Entry {
  name: string;
  size: number;
}

/** A field representation as read: its bytes in the block, name, decoded value, and kind. */
export interface Field {
  start: number;
  end: number;
  name: string;
  value: Buffer;
  /** The first byte's pattern for a literal (0x40 incremental, 0x10 never, 0x00 without), or -1 if indexed. */
  literal: number;
}

export class HpackDecoder {
  private readonly table: Entry[] = []; // newest first
  private size = 0;
  private maxSize = 4096;

  /** Read one header block, updating the dynamic table as the server's decoder will. */
  read(block: Buffer): Field[] {
    const fields: Field[] = [];
    const r = { pos: 0 };
    while (r.pos < block.length) {
      const start = r.pos;
      const b = block[r.pos]!;
      if (b & 0x80) {
        const index = readInt(block, r, 7);
        fields.push({ start, end: r.pos, name: this.nameAt(index), value: Buffer.alloc(0), literal: -1 });
      } else if ((b & 0xe0) === 0x20) {
        this.maxSize = readInt(block, r, 5);
        this.evict(0);
      } else {
        const incremental = (b & 0xc0) === 0x40;
        const index = readInt(block, r, incremental ? 6 : 4);
        const name = index === 0 ? readString(block, r).toString('latin1') : this.nameAt(index);
        const value = readString(block, r);
        if (incremental) this.add(name, value.length);
        fields.push({ start, end: r.pos, name, value, literal: incremental ? 0x40 : b & 0xf0 });
      }
    }
    return fields;
  }

  private nameAt(index: number): string {
    if (index >= 1 && index <= STATIC_NAMES.length) return STATIC_NAMES[index - 1]!;
    const e = this.table[index - STATIC_NAMES.length - 1];
    if (e === undefined) throw new HpackError(`header index ${index} out of range`);
    return e.name;
  }

  private add(name: string, valueLength: number): void {
    const size = name.length + valueLength + 32;
    this.evict(size);
    if (size <= this.maxSize) {
      this.table.unshift({ name, size });
      this.size += size;
    }
  }

  private evict(room: number): void {
    while (this.table.length > 0 && this.size + room > this.maxSize) this.size -= this.table.pop()!.size;
  }
}

/** An HPACK integer (RFC 7541 5.1) at r.pos with a prefixBits-bit prefix; r.pos moves past it. */
export function readInt(buf: Buffer, r: { pos: number }, prefixBits: number): number {
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

function readString(buf: Buffer, r: { pos: number }): Buffer {
  if (r.pos >= buf.length) throw new HpackError('truncated string');
  const huffman = (buf[r.pos]! & 0x80) !== 0;
  const n = readInt(buf, r, 7);
  if (r.pos + n > buf.length) throw new HpackError('truncated string');
  const raw = buf.subarray(r.pos, r.pos + n);
  r.pos += n;
  return huffman ? huffmanDecode(raw) : Buffer.from(raw);
}

/** Appends an HPACK integer (RFC 7541 5.1) with `prefixBits` of the first byte, whose other bits are `first`. */
export function writeInt(out: number[], first: number, prefixBits: number, v: number): void {
  const max = (1 << prefixBits) - 1;
  if (v < max) {
    out.push(first | v);
    return;
  }
  out.push(first | max);
  for (v -= max; v >= 0x80; v = Math.floor(v / 128)) out.push((v % 128) | 0x80);
  out.push(v);
}

/**
 * The bytes of a literal field of the same kind as `f`, named by static index 1 (`:authority`) or by
 * the literal name, with `value` as a plain (not Huffman) string.
 */
export function literalField(f: Field, value: Buffer): Buffer {
  const out: number[] = [];
  const staticIndex = STATIC_NAMES.indexOf(f.name) + 1;
  const prefix = f.literal === 0x40 ? 6 : 4;
  writeInt(out, f.literal, prefix, staticIndex > 0 ? staticIndex : 0);
  if (staticIndex === 0) {
    writeInt(out, 0, 7, f.name.length);
    out.push(...Buffer.from(f.name, 'latin1'));
  }
  writeInt(out, 0, 7, value.length);
  return Buffer.concat([Buffer.from(out), value]);
}
