import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStorage, RawNode } from '../../../src/raft/index.js';
import type { Entry, HardState } from '../../../src/raft/types.js';
import { RaftNode } from '../../../src/server/raft-node.js';
import { NoPeersTransport } from '../../../src/transport/index.js';
import type { Snapshotter, WAL } from '../../../src/wal/index.js';

/** A WAL whose saves complete only when the test says so. */
class HeldWal {
  held = false;
  saved: Entry[] = [];
  private releases: Array<() => void> = [];
  save(_hs: HardState | undefined, entries: Entry[]): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.saved.push(...entries);
        resolve();
      };
      if (this.held) this.releases.push(done);
      else done();
    });
  }
  release(): void {
    this.held = false;
    for (const r of this.releases.splice(0)) r();
  }
}

const until = async (cond: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 1));
  }
};

describe('the Ready loop of a cluster of one', () => {
  it('never applies (acknowledges) an entry before the WAL write holding it completes', async () => {
    const storage = MemoryStorage.withConfState({ voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false });
    const node = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage, rng: () => 0.5 });
    const wal = new HeldWal();
    const applied: Entry[] = [];
    const rn = new RaftNode(node, storage, wal as unknown as WAL, {} as Snapshotter, new NoPeersTransport(), {
      applyEntries: (es) => applied.push(...es),
      applySnapshot: async () => undefined,
      onSoftState: () => undefined,
      onReadStates: () => undefined,
      afterApply: async () => undefined,
      onFatal: (err) => {
        throw err;
      },
    }, { tickMs: 1000, logger: pino({ level: 'silent' }) });
    node.campaign();
    rn.kick();
    await until(() => node.status().softState.lead === 1n && applied.length > 0); // the leader's empty entry
    wal.held = true;
    rn.propose(Buffer.from('x'));
    await new Promise((r) => setTimeout(r, 20)); // the loop now waits on the held write
    expect(applied.some((e) => Buffer.from(e.data).toString() === 'x')).toBe(false);
    wal.release();
    await until(() => applied.some((e) => Buffer.from(e.data).toString() === 'x'));
    expect(wal.saved.some((e) => Buffer.from(e.data).toString() === 'x')).toBe(true);
    await rn.stop();
  });
});
