/*
 * A v2 event: what every operation returns and what watchers receive. Its body is
 *   {"action":"set","node":{...},"prevNode":{...}}
 * (prevNode left out when absent). `etcdIndex` is the store index to put in X-Etcd-Index; `path` is the
 * internal path used for watch matching; `refresh` marks a TTL refresh (kept in the history, skipped by
 * watchers, never shown in the body).
 */
import { serializeNode, type V2Action, type V2NodeJson } from './json.js';

export interface V2EventBody { action: V2Action; node: V2NodeJson; prevNode?: V2NodeJson }

export class V2Event {
  constructor(
    readonly action: V2Action,
    readonly node: V2NodeJson,
    public prevNode: V2NodeJson | undefined,
    public etcdIndex: number,
    readonly path: string,
    public refresh = false,
  ) {}

  /** The index the event happened at (the node's modifiedIndex; for a delete, the delete's index). */
  index(): number {
    return this.node.modifiedIndex ?? 0;
  }

  /** True for delete, compareAndDelete and expire: the node is gone. */
  isRemoval(): boolean {
    return this.action === 'delete' || this.action === 'compareAndDelete' || this.action === 'expire';
  }

  /** etcd answers 201 Created for a create, or a set that made a new node. */
  isCreated(): boolean {
    return this.action === 'create' || (this.action === 'set' && this.prevNode === undefined);
  }

  /** A copy carrying another X-Etcd-Index (a watcher served from history reports the index it started at). */
  withEtcdIndex(etcdIndex: number): V2Event {
    return new V2Event(this.action, this.node, this.prevNode, etcdIndex, this.path, this.refresh);
  }

  toJSON(): V2EventBody {
    const body: V2EventBody = { action: this.action, node: this.node };
    if (this.prevNode !== undefined) body.prevNode = this.prevNode;
    return body;
  }

  /** etcd's exact body bytes, without the trailing "\n" the HTTP layer adds. */
  serialize(): string {
    const prev = this.prevNode === undefined ? '' : `,"prevNode":${serializeNode(this.prevNode)}`;
    return `{"action":"${this.action}","node":${serializeNode(this.node)}${prev}}`;
  }
}
