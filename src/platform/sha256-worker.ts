// SHA-256 of a stream computed on a worker thread, so that the thread sending the stream does not
// spend its time on it (a snapshot's 164 MB at 1M keys: ~150 ms here). The bytes go through one
// shared ring of RING_BYTES: update() copies a chunk in (a memcpy, ~8x cheaper than hashing it) and
// tells the worker where; the worker answers with the bytes it has hashed, which frees their room.
// One ring per stream and nothing else shared: the worker holds no memory of the caller's.
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

const RING_BYTES = 4 * 1024 * 1024;
/** Bytes handed to the worker at a time (a chunk larger than this goes in several). */
const PIECE_BYTES = 1024 * 1024;

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const ring = new Uint8Array(workerData);
const hash = createHash('sha256');
parentPort.on('message', (m) => {
  if (m === null) return parentPort.postMessage(hash.digest());
  hash.update(ring.subarray(m[0], m[0] + m[1]));
  parentPort.postMessage(m[1]);
});
`;

export interface StreamHash {
  /** Hashes `chunk` after the chunks before it; wait for it before the next (it waits for room). */
  update(chunk: Uint8Array): Promise<void> | undefined;
  /** The digest of every chunk given; the worker ends. */
  digest(): Promise<Buffer>;
  /** Ends the worker (after digest(), or when the stream is abandoned). */
  close(): void;
}

/** A SHA-256 computed on its own worker thread (inline when no worker can be started). */
export function workerSha256(): StreamHash {
  const shared = new SharedArrayBuffer(RING_BYTES);
  const ring = new Uint8Array(shared);
  let worker: Worker;
  try {
    worker = new Worker(SOURCE, { eval: true, workerData: shared });
  } catch {
    return inlineSha256();
  }
  worker.unref();
  let head = 0; // where the next bytes go
  let inFlight = 0; // bytes in the ring not yet hashed
  let failed: Error | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  let done: { resolve: (d: Buffer) => void; reject: (e: Error) => void } | undefined;
  const settle = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (e: Error): void => {
    failed ??= e;
    settle();
    done?.reject(failed);
  };
  worker.on('message', (m: number | Uint8Array) => {
    if (typeof m === 'number') {
      inFlight -= m;
      settle();
    } else {
      done?.resolve(Buffer.from(m.buffer, m.byteOffset, m.length));
    }
  });
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (!closed) fail(new Error(`sha256 worker exited with code ${code}`));
  });
  /** `bytes` into the ring at head, for the worker (there is room). */
  const place = (bytes: Uint8Array): void => {
    ring.set(bytes, head);
    worker.postMessage([head, bytes.length]);
    inFlight += bytes.length;
    head = (head + bytes.length) % RING_BYTES;
  };
  const put = async (chunk: Uint8Array): Promise<void> => {
    for (let off = 0; off < chunk.length; ) {
      const n = Math.min(chunk.length - off, RING_BYTES - head, PIECE_BYTES);
      while (inFlight + n > RING_BYTES && failed === undefined) await new Promise<void>((resolve) => (wake = resolve));
      if (failed) throw failed;
      place(chunk.subarray(off, off + n));
      off += n;
    }
  };
  return {
    update(chunk) {
      if (failed) throw failed;
      const n = chunk.length;
      if (n > PIECE_BYTES || head + n > RING_BYTES || inFlight + n > RING_BYTES) return put(chunk);
      place(chunk); // the usual case: room for all of it, no promise
      return undefined;
    },
    digest() {
      return new Promise<Buffer>((resolve, reject) => {
        if (failed) return reject(failed);
        done = { resolve, reject };
        worker.postMessage(null);
      });
    },
    close() {
      closed = true;
      void worker.terminate();
    },
  };
}

/** The same interface, hashed on the calling thread (small streams: a worker takes ~25 ms to start). */
export function inlineSha256(): StreamHash {
  const hash = createHash('sha256');
  return {
    update(chunk) {
      hash.update(chunk);
      return undefined;
    },
    digest: () => Promise.resolve(hash.digest()),
    close() {},
  };
}
