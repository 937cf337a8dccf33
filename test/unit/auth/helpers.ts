// An in-memory stand-in for the backend's get/put/del/iterate, keyed as the backend is (bucket, key).
import type { AuthBackend } from '../../../src/auth/index.js';
import { compareBytes } from '../../../src/pkg/bytes.js';

export class MemBackend implements AuthBackend {
  readonly data = new Map<string, Map<string, Buffer>>();

  private bucket(b: string): Map<string, Buffer> {
    let m = this.data.get(b);
    if (!m) this.data.set(b, (m = new Map()));
    return m;
  }
  get(bucket: string, key: Uint8Array): Buffer | undefined {
    return this.bucket(bucket).get(Buffer.from(key).toString('latin1'));
  }
  put(bucket: string, key: Uint8Array, value: Buffer): void {
    this.bucket(bucket).set(Buffer.from(key).toString('latin1'), value);
  }
  del(bucket: string, key: Uint8Array): void {
    this.bucket(bucket).delete(Buffer.from(key).toString('latin1'));
  }
  async *iterate(bucket: string): AsyncGenerator<[Buffer, Buffer]> {
    const entries = [...this.bucket(bucket)].map(([k, v]) => [Buffer.from(k, 'latin1'), v] as [Buffer, Buffer]);
    entries.sort((a, b) => compareBytes(a[0], b[0]));
    yield* entries;
  }
}
