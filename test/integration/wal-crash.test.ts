// Crash tests: a real child process saves batches (with conflicting suffixes) and snapshot markers
// (then releases old segments) and is killed with SIGKILL by a failpoint inside an operation (before
// the write, after the write, after the flush) or inside a segment cut. After each kill the WAL is
// reopened as the server does (newest marker from WAL.snapshotMarkers, open from it) and must equal
// the reference model built from the child's journal: every acknowledged operation, plus the one in
// flight exactly when its write had happened.
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

interface Marker {
  index: number;
  term: number;
}

type Op = { kind: 'save'; hardState: HardState; entries: Entry[] } | { kind: 'snap'; marker: Marker };

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

/** The reference model: the whole log (never released), the hard state, the newest durable marker. */
class Model {
  log: Entry[] = [];
  hs: HardState = { term: 0, vote: 0n, commit: 0 };
  snap: Marker = { index: 0, term: 0 };

  /** As etcd's WAL reader: an entry at an existing index replaces it and the suffix. */
  apply(op: Op): void {
    if (op.kind === 'snap') {
      this.snap = op.marker;
      return;
    }
    this.log = [...this.log.slice(0, op.entries[0]!.index - 1), ...op.entries];
    this.hs = op.hardState;
  }
}

async function readJournal(file: string, from: number): Promise<{ acked: Op[]; inFlight?: Op; lines: number }> {
  const lines = (await fs.readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const acked: Op[] = [];
  let pending: Op | undefined;
  for (const line of lines.slice(from)) {
    const j = JSON.parse(line);
    if (j.op === 'ack') {
      acked.push(pending!);
      pending = undefined;
    } else if (j.kind === 'snap') {
      pending = { kind: 'snap', marker: j.marker };
    } else {
      const entries = j.entries.map((e: { data: string }) => ({ ...e, data: Buffer.from(e.data, 'hex') }));
      pending = { kind: 'save', hardState: { ...j.hardState, vote: BigInt(j.hardState.vote) }, entries };
    }
  }
  return { acked, inFlight: pending, lines: lines.length };
}

/** Restart as the server does (newest usable marker, open from it) and compare with the model. */
async function checkAgainst(model: Model, walDir: string, what: string): Promise<void> {
  const markers = await WAL.snapshotMarkers(walDir);
  const from = markers.reduce((a, b) => (b.index > a.index ? b : a), { index: 0, term: 0 });
  expect(from, `${what}: newest marker`).toEqual(model.snap);
  const got = await WAL.open(walDir, from, { segmentBytes: SEGMENT_BYTES });
  expect(plain(got.entries), what).toEqual(plain(model.log.filter((e) => e.index > from.index)));
  expect(got.hardState, what).toEqual(model.hs);
  await got.wal.close();
}

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('WAL crash safety (SIGKILL at failpoints, real child process)', () => {
  it('after every kill the log equals the acknowledged model (plus the in-flight operation once written)', async () => {
    const walDir = path.join(dir, 'member', 'wal');
    const journal = path.join(dir, 'journal.log');
    const rounds = [
      { fp: 'walBeforeWrite', hit: 3, mode: 'dsync', written: false },
      { fp: 'walAfterWrite', hit: 4, mode: 'dsync', written: true },
      { fp: 'walAfterSync', hit: 6, mode: 'dsync', written: true },
      { fp: 'walCutBeforeRename', hit: 1, mode: 'dsync', written: true },
      { fp: 'walAfterWrite', hit: 7, mode: 'fdatasync', written: true },
      { fp: 'walAfterSync', hit: 5, mode: 'fdatasync', written: true },
      { fp: 'walBeforeWrite', hit: 8, mode: 'fdatasync', written: false },
      { fp: 'walAfterSync', hit: 9, mode: 'dsync', written: true },
    ] as const;
    const model = new Model();
    let seen = 0;
    const kinds = new Set<string>();
    for (const [i, round] of rounds.entries()) {
      const ops = round.fp === 'walCutBeforeRename' ? 60 : round.hit + 3;
      const res = await runChild([walDir, journal, String(100 + i), round.mode, String(SEGMENT_BYTES), String(ops)], `${round.fp}=kill@${round.hit}`);
      expect(res.signal, `round ${i} ${round.fp}: ${res.stderr}`).toBe('SIGKILL');
      const j = await readJournal(journal, seen);
      seen = j.lines;
      j.acked.forEach((op) => model.apply(op));
      expect(j.inFlight, `round ${i}: an operation was in flight when killed`).toBeDefined();
      if (round.fp !== 'walCutBeforeRename') expect(j.acked.length).toBe(round.hit - 1);
      kinds.add(`${j.inFlight!.kind}`);
      j.acked.forEach((op) => kinds.add(`acked ${op.kind}`));
      if (round.written) model.apply(j.inFlight!);
      await checkAgainst(model, walDir, `round ${i} ${round.fp} (in flight: ${j.inFlight!.kind})`);
    }
    // a clean run afterwards continues the same log
    const res = await runChild([walDir, journal, '999', 'dsync', String(SEGMENT_BYTES), '8'], '');
    expect(res.code, res.stderr).toBe(0);
    const j = await readJournal(journal, seen);
    j.acked.forEach((op) => model.apply(op));
    expect(j.inFlight).toBeUndefined();
    await checkAgainst(model, walDir, 'clean run');
    expect([...kinds].sort()).toEqual(['acked save', 'acked snap', 'save', 'snap']); // the seeds kill inside both kinds
    expect(model.snap.index).toBeGreaterThan(0);
    const segments = (await fs.readdir(walDir)).filter((n) => n.endsWith('.wal'));
    expect(segments.length).toBeGreaterThan(1);
    expect(segments).not.toContain('0000000000000000-0000000000000000.wal'); // released
  });
});
