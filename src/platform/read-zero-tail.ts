/*
 * Reading a file whose tail is mostly zeros (a preallocated WAL segment: 64 MB, of which a restart
 * often finds half unwritten). The result is exactly fs.readFile's; the difference is where the
 * bytes go: into a zero-filled buffer (calloc: its pages are not touched until written), with each
 * chunk that is all zeros read into a small scratch buffer instead and not copied. So the unwritten
 * part costs no page allocation in this process, only the read. Chunks go straight into the result
 * until the first chunk of zeros; from there through the scratch buffer (copied when not all zero).
 * The offset from which every chunk was zeros is recorded with the buffer (pkg/disk.ts
 * knownZeroFrom): checking those bytes again would fault in each page of the unwritten part.
 */
import { open } from 'node:fs/promises';
import { markZeroTail } from '../pkg/disk.js';

/** Files smaller than this are read by fs.readFile. */
export const ZERO_TAIL_MIN_BYTES = 8 << 20;
const CHUNK_BYTES = 1 << 20;

const zeros = Buffer.alloc(CHUNK_BYTES);

export async function readFileZeroTail(file: string): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(size);
    const scratch = Buffer.allocUnsafe(CHUNK_BYTES);
    let off = 0;
    let inTail = false;
    let zeroFrom = 0; // the end of the last chunk that was not all zeros
    while (off < size) {
      const want = Math.min(CHUNK_BYTES, size - off);
      const into: Buffer = inTail ? scratch : buf.subarray(off, off + want);
      const n = await readFully(fh, into, want, off);
      if (n === 0) return marked(buf.subarray(0, off), zeroFrom); // the file shrank meanwhile, as readFile would see it
      const zero: boolean = into.compare(zeros, 0, n, 0, n) === 0;
      if (inTail && !zero) scratch.copy(buf, off, 0, n);
      inTail = zero;
      off += n;
      if (!zero) zeroFrom = off;
    }
    return marked(buf, zeroFrom);
  } finally {
    await fh.close();
  }
}

/** `buf`, recorded as zeros from `from` on (pkg/disk.ts knownZeroFrom), so the WAL's scan skips them. */
function marked(buf: Buffer, from: number): Buffer {
  markZeroTail(buf, Math.min(from, buf.length));
  return buf;
}

async function readFully(fh: Awaited<ReturnType<typeof open>>, into: Buffer, want: number, at: number): Promise<number> {
  let got = 0;
  while (got < want) {
    const { bytesRead } = await fh.read(into, got, want - got, at + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}
