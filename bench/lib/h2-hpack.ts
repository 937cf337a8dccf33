// HPACK (RFC 7541) for the probe's JavaScript HTTP/2 (js-h2.ts): the decoder is the client port's
// (src/platform/h2/hpack.ts: static table, the client's dynamic table and its size updates, Huffman
// strings); names and values come out as latin1 strings. The probe's answers are literal blocks.
import { HpackDecoder } from '../../src/platform/h2/hpack.js';

export class HpackReader {
  private readonly decoder = new HpackDecoder();

  /** The header list of one block as [name, value, name, value, …], the dynamic table updated. */
  decode(block: Buffer): string[] {
    return this.decoder.decode(block).fields;
  }
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
