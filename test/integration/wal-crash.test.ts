// Crash tests: a real child process saves batches to a WAL and is killed with SIGKILL by a failpoint
// inside save (before the write, after the write, after the flush) or inside a segment cut. After each
// kill the WAL is reopened and must equal the reference model built from the child's journal: every
// acknowledged batch, plus the batch in flight exactly when its write had happened.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry, HardState } from '../../src/raft/types.js';
import { WAL } from '../../src/wal/index.js';
import { plain, tempDir } from '../unit/wal/helpers.js';

const child = fileURLToPath(new URL('../fixtures/wal/crash-child.ts', import.meta.url));
const SEGMENT_BYTES = 8192;

interface Batch {
  hardState: HardState;
  entries: Entry[];
}

function runChild(args: string[], failpoints: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], {
      env: { ...process.env, ETCD_FAILPOINTS: failpoints },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** The model: apply a batch as etcd's WAL reader does (an entry at an existing index replaces the suffix). */
function apply(log: Entry[], b: Batch): { log: Entry[]; hs: HardState } {
  const first = b.entries[0]!.index;
  return { log: [...log.slice(0, first - 1), ...b.entries], hs: b.hardState };
}

async function readJournal(file: string, from: number): Promise<{ acked: Batch[]; inFlight?: Batch; lines: number }> {
  const lines = (await fs.readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const acked: Batch[] = [];
  let pending: Batch | undefined;
  for (const line of lines.slice(from)) {
    const j = JSON.parse(line);
    if (j.op === 'ack') {
      acked.push(pending!);
      pending = undefined;
      continue;
    }
    pending = {
      hardState: { ...j.hardState, vote: BigInt(j.hardState.vote) },
      entries: j.entries.map((e: { data: string }) => ({ ...e, data: Buffer.from(e.data, 'hex') })),
    };
  }
  return { acked, inFlight: pending, lines: lines.length };
}

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('WAL crash safety (SIGKILL at failpoints, real child process)', () => {
  it('after every kill the log equals the acknowledged model (plus the in-flight batch once written)', async () => {
    const walDir = path.join(dir, 'member', 'wal');
    const journal = path.join(dir, 'journal.log');
    const rounds = [
      { fp: 'walBeforeWrite', hit: 3, mode: 'dsync', written: false },
      { fp: 'walAfterWrite', hit: 4, mode: 'dsync', written: true },
      { fp: 'walAfterSync', hit: 2, mode: 'dsync', written: true },
      { fp: 'walCutBeforeRename', hit: 1, mode: 'dsync', written: true },
      { fp: 'walAfterWrite', hit: 5, mode: 'fdatasync', written: true },
      { fp: 'walAfterSync', hit: 3, mode: 'fdatasync', written: true },
      { fp: 'walBeforeWrite', hit: 6, mode: 'fdatasync', written: false },
    ] as const;
    let model: { log: Entry[]; hs: HardState } = { log: [], hs: { term: 0, vote: 0n, commit: 0 } };
    let seen = 0;
    for (const [i, round] of rounds.entries()) {
      const batches = round.fp === 'walCutBeforeRename' ? 60 : round.hit + 3;
      const res = await runChild([walDir, journal, String(100 + i), round.mode, String(SEGMENT_BYTES), String(batches)], `${round.fp}=kill@${round.hit}`);
      expect(res.signal, `round ${i} ${round.fp}: ${res.stderr}`).toBe('SIGKILL');
      const j = await readJournal(journal, seen);
      seen = j.lines;
      for (const b of j.acked) model = apply(model.log, b);
      expect(j.inFlight, `round ${i}: a batch was in flight when killed`).toBeDefined();
      if (round.fp !== 'walCutBeforeRename') expect(j.acked.length).toBe(round.hit - 1);
      if (round.written) model = apply(model.log, j.inFlight!);
      const got = await WAL.open(walDir, { index: 0, term: 0 }, { segmentBytes: SEGMENT_BYTES });
      expect(plain(got.entries), `round ${i} ${round.fp}`).toEqual(plain(model.log));
      expect(got.hardState).toEqual(model.hs);
      await got.wal.close();
    }
    // a clean run afterwards continues the same log
    const res = await runChild([walDir, journal, '999', 'dsync', String(SEGMENT_BYTES), '5'], '');
    expect(res.code, res.stderr).toBe(0);
    const j = await readJournal(journal, seen);
    for (const b of j.acked) model = apply(model.log, b);
    expect(j.inFlight).toBeUndefined();
    const got = await WAL.open(walDir, { index: 0, term: 0 }, { segmentBytes: SEGMENT_BYTES });
    expect(plain(got.entries)).toEqual(plain(model.log));
    expect((await fs.readdir(walDir)).filter((n) => n.endsWith('.wal')).length).toBeGreaterThan(2);
    await got.wal.close();
  });
});
