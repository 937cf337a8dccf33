// The steps of a snapshot save, offline, on a member's data dir (stopped): how long each takes on
// the event loop's thread, and the CPU of the process meanwhile.
//
//   npx tsx bench/snapshot-steps.ts DATA_DIR [--rounds R] [--check]
//
// DATA_DIR is a member's --data-dir (e.g. one bench/snapshot-save-restore.ts --keep left). Opens
// its backend and key index, then per round: the capture (KvStore.liveRevisions: synchronous), the
// sort by revision and the reads of history (load: asynchronous, its longest turn printed), the
// layout pass (etcdDbStreamLive: synchronous, with the other buckets' reads), the pages (1 MiB a
// turn, the longest printed) and sha256 of the file. Wall times include waiting for a core. The first round pays V8's
// warm-up. --check: then the file read whole from LevelDB (etcdDbImage, the path taken during a
// compaction), whose sha256 must be the same.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Backend } from '../src/backend/index.js';
import { KvStore } from '../src/mvcc/index.js';
import { etcdDbImage, etcdDbStreamLive } from '../src/server/etcd-db.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: snapshot-steps.ts DATA_DIR [--rounds R]');
const rounds = process.argv.includes('--rounds') ? Number(process.argv[process.argv.indexOf('--rounds') + 1]) : 3;

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Longest gap between event-loop turns while `p` runs. */
async function longestTurn<T>(p: () => Promise<T>): Promise<[T, number]> {
  let last = performance.now();
  let worst = 0;
  let on = true;
  const tick = (): void => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return [await p(), worst];
  } finally {
    on = false;
  }
}

const backend = await Backend.open(join(dir, 'member', 'snap', 'db'));
const kv = await KvStore.open(backend);
for (let r = 1; r <= rounds; r++) {
  const row: Record<string, number | string> = { round: r };
  let t = performance.now();
  let c = cpuMs();
  const live = kv.liveRevisions();
  if (!live) throw new Error('no capture (compaction in flight?)');
  row.captureMs = Math.round(performance.now() - t);
  row.captureCpuMs = Math.round(cpuMs() - c);
  row.entries = live.count;
  t = performance.now();
  c = cpuMs();
  const [, worstLoad] = await longestTurn(() => live.load()); // offline nothing writes: the save's own load() then has nothing to do
  row.sortAndLoadMs = Math.round(performance.now() - t);
  row.sortAndLoadCpuMs = Math.round(cpuMs() - c);
  row.longestLoadTurnMs = Math.round(worstLoad);
  t = performance.now();
  c = cpuMs();
  const image = await etcdDbStreamLive(backend, live);
  row.layoutMs = Math.round(performance.now() - t);
  row.layoutCpuMs = Math.round(cpuMs() - c);
  t = performance.now();
  c = cpuMs();
  const h = createHash('sha256');
  let worstPage = 0;
  let bytes = 0;
  let prev = performance.now();
  for (const chunk of image.chunks) {
    worstPage = Math.max(worstPage, performance.now() - prev); // making this chunk's pages
    h.update(chunk);
    bytes += chunk.length;
    prev = performance.now();
  }
  row.longestPagesMs = +worstPage.toFixed(1);
  row.pagesAndShaMs = Math.round(performance.now() - t);
  row.pagesAndShaCpuMs = Math.round(cpuMs() - c);
  row.fileMb = +(bytes / 1e6).toFixed(1);
  row.sha256 = h.digest('hex').slice(0, 16);
  console.log(JSON.stringify(row));
}
if (process.argv.includes('--check')) {
  const t = performance.now();
  const c = cpuMs();
  const image = await etcdDbImage(backend);
  const h = createHash('sha256');
  for (const chunk of image.chunks) h.update(chunk);
  console.log(JSON.stringify({ wholeFromLevelDbMs: Math.round(performance.now() - t), cpuMs: Math.round(cpuMs() - c), fileMb: +(image.size / 1e6).toFixed(1), sha256: h.digest('hex').slice(0, 16) }));
}
await backend.close();
