// Applying membership changes to a tracker config: one voter change at a time (simple changes), as etcd.
import { invariant } from './errors.js';
import { Progress } from './progress.js';
import { cloneTrackerConfig, type ProgressMap, type ProgressTracker, type TrackerConfig, emptyTrackerConfig } from './tracker.js';
import { type ConfChange, ConfChangeType, type ConfState, type NodeId } from './types.js';

export class ConfChangeError extends Error {}

export interface ChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

/** Apply simple changes (at most one voter added/removed) to a copy of the tracker's config. */
export function applySimple(tr: ProgressTracker, lastIndex: number, ccs: ConfChange[]): ChangeResult {
  if (tr.config.voters[1].size > 0) throw new ConfChangeError('can\'t apply simple config change in joint config');
  const res: ChangeResult = { config: cloneTrackerConfig(tr.config), progress: new Map(tr.progress) };
  for (const cc of ccs) applyOne(res, cc, lastIndex, tr.maxInflight);
  let diff = 0;
  for (const id of tr.config.voters[0]) if (!res.config.voters[0].has(id)) diff++;
  for (const id of res.config.voters[0]) if (!tr.config.voters[0].has(id)) diff++;
  if (diff > 1) throw new ConfChangeError('more than one voter changed without entering joint config');
  checkInvariants(res);
  return res;
}

function applyOne(res: ChangeResult, cc: ConfChange, lastIndex: number, maxInflight: number): void {
  if (cc.nodeId === 0n) return; // etcd ignores changes to node 0
  switch (cc.type) {
    case ConfChangeType.ConfChangeAddNode:
      makeVoter(res, cc.nodeId, lastIndex, maxInflight);
      break;
    case ConfChangeType.ConfChangeAddLearnerNode:
      makeLearner(res, cc.nodeId, lastIndex, maxInflight);
      break;
    case ConfChangeType.ConfChangeRemoveNode:
      remove(res, cc.nodeId);
      break;
    case ConfChangeType.ConfChangeUpdateNode:
      break;
    default:
      throw new ConfChangeError(`unexpected conf type ${String(cc.type)}`);
  }
  if (res.config.voters[0].size === 0) throw new ConfChangeError('removed all voters');
}

function initProgress(res: ChangeResult, id: NodeId, isLearner: boolean, lastIndex: number, maxInflight: number): void {
  if (isLearner) res.config.learners.add(id);
  else res.config.voters[0].add(id);
  // next = lastIndex: the first probe then goes to the last entry, and a rejection walks back.
  res.progress.set(id, new Progress(Math.max(lastIndex, 1), maxInflight, isLearner));
}

function copyProgress(res: ChangeResult, id: NodeId): Progress | undefined {
  const pr = res.progress.get(id);
  if (!pr) return undefined;
  // Progress objects are shared with the old tracker; mutate a copy so a failed change leaves no trace.
  const cp = Object.assign(Object.create(Object.getPrototypeOf(pr) as object) as Progress, pr);
  res.progress.set(id, cp);
  return cp;
}

function makeVoter(res: ChangeResult, id: NodeId, lastIndex: number, maxInflight: number): void {
  const pr = copyProgress(res, id);
  if (!pr) return initProgress(res, id, false, lastIndex, maxInflight);
  pr.isLearner = false;
  res.config.learners.delete(id);
  res.config.learnersNext.delete(id);
  res.config.voters[0].add(id);
}

function makeLearner(res: ChangeResult, id: NodeId, lastIndex: number, maxInflight: number): void {
  const pr = copyProgress(res, id);
  if (!pr) return initProgress(res, id, true, lastIndex, maxInflight);
  if (pr.isLearner) return;
  remove(res, id);
  res.progress.set(id, pr);
  if (res.config.voters[1].has(id)) res.config.learnersNext.add(id);
  else {
    pr.isLearner = true;
    res.config.learners.add(id);
  }
}

function remove(res: ChangeResult, id: NodeId): void {
  if (!res.progress.has(id)) return;
  res.config.voters[0].delete(id);
  res.config.learners.delete(id);
  res.config.learnersNext.delete(id);
  if (!res.config.voters[1].has(id)) res.progress.delete(id);
}

function checkInvariants(res: ChangeResult): void {
  const { config, progress } = res;
  for (const ids of [config.voters[0], config.voters[1], config.learners, config.learnersNext]) {
    for (const id of ids) invariant(progress.has(id), `no progress for ${id}`);
  }
  for (const id of config.learners) invariant(!config.voters[0].has(id) && !config.voters[1].has(id), `${id} is in learners and voters`);
}

/** Build a tracker config from a persisted ConfState (start-up, snapshot restore). */
export function restoreConfState(cs: ConfState, lastIndex: number, maxInflight: number): ChangeResult {
  const res: ChangeResult = { config: emptyTrackerConfig(), progress: new Map() };
  const next = Math.max(lastIndex, 1);
  for (const id of cs.votersOutgoing) {
    res.config.voters[1].add(id);
    res.progress.set(id, new Progress(next, maxInflight, false));
  }
  for (const id of cs.voters) {
    res.config.voters[0].add(id);
    if (!res.progress.has(id)) res.progress.set(id, new Progress(next, maxInflight, false));
  }
  for (const id of cs.learners) {
    res.config.learners.add(id);
    res.progress.set(id, new Progress(next, maxInflight, true));
  }
  for (const id of cs.learnersNext) {
    res.config.learnersNext.add(id);
    if (!res.progress.has(id)) res.progress.set(id, new Progress(next, maxInflight, false));
  }
  res.config.autoLeave = cs.autoLeave;
  return res;
}
