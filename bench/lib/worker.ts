// Worker thread entry: receives its WorkerTask, builds the case, and answers the main thread's
// messages: 'setup' → 'ready' (connections, leases, watchers in place), 'go' → 'done' + WorkerResult,
// 'puts-done' (watch) → the putter has finished, 'close' → release everything and exit.
import { parentPort, workerData } from 'node:worker_threads';
import { leaseKeepAliveCase, putCase, rangeCase, txnPutCase, v2Case, type CaseRun } from './cases.js';
import { Recorder } from './recorder.js';
import type { WorkerTask } from './types.js';
import { watchCase, type WatchRun } from './watch-case.js';

export function makeCase(task: WorkerTask, putsSent?: () => void): CaseRun | WatchRun {
  switch (task.opts.case) {
    case 'put':
      return putCase(task);
    case 'range':
      return rangeCase(task);
    case 'txn-put':
      return txnPutCase(task);
    case 'watch':
      return watchCase(task, putsSent);
    case 'lease-keepalive':
      return leaseKeepAliveCase(task);
    case 'v2-get':
      return v2Case(task, 'GET');
    case 'v2-put':
      return v2Case(task, 'PUT');
  }
}

if (parentPort && workerData) {
  const port = parentPort;
  const task = workerData as WorkerTask;
  const run = makeCase(task, () => port.postMessage({ type: 'puts-sent' }));
  const fail = (stage: string) => (e: unknown) => port.postMessage({ type: 'failed', stage, error: String((e as Error)?.stack ?? e) });
  port.on('message', (m: { type: string }) => {
    if (m.type === 'setup') run.setup().then(() => port.postMessage({ type: 'ready' }), fail('setup'));
    else if (m.type === 'go') {
      const rec = new Recorder(task.opts.case === 'watch' ? task.watchers * task.opts.total : task.total);
      run.run(rec).then(() => {
        const res = rec.finish();
        port.postMessage({ type: 'done', result: res }, [res.latencies.buffer as ArrayBuffer]);
      }, fail('run'));
    } else if (m.type === 'puts-sent') (run as WatchRun).putsDone?.();
    else if (m.type === 'close') {
      run.close();
      port.close();
    }
  });
}
