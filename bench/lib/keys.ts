// Keys and values of a workload. A key is the decimal index, zero-padded to --key-size bytes (longer
// when the index has more digits), so keys are printable and valid in a v2 URL: index 42 at
// key-size 8 is "00000042". Sequential keys walk 0, 1, 2, ... modulo --key-space; otherwise each
// request picks a uniformly random index below --key-space (etcd's benchmark tool does the same).

export interface KeyGen {
  next(): Buffer;
}

export function keyOf(index: number, keySize: number): Buffer {
  return Buffer.from(String(index).padStart(keySize, '0'));
}

/** `start` offsets sequential keys so workers of one run do not repeat each other's. */
export function keyGen(keySize: number, keySpace: number, sequential: boolean, start: number): KeyGen {
  let i = start;
  return {
    next: () => keyOf(sequential ? i++ % keySpace : Math.floor(Math.random() * keySpace), keySize),
  };
}

/** A value of `size` printable bytes (printable so the same bytes also travel in a v2 form body). */
export function valueOf(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 0x61 + ((i * 7) % 26);
  return b;
}
