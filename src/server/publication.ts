/*
 * The member's publication (etcd's publish): once a leader is known, the member proposes its name
 * and client URLs (a v2 PUT of /0/members/<id>/attributes); once that applies it is ready, and a
 * leader then sets the cluster version if none is set. Retried (publishOnce again) until it succeeds.
 */
import type { Logger } from '../pkg/logger.js';
import type { ApplyOutcome } from './apply.js';
import { clusterVersionRequest, publishRequest, type V2Request } from './internal-request.js';

/** The cluster version a member of ours sets (etcd 3.4's). */
export const CLUSTER_VERSION = '3.4.0';

export interface PublicationDeps {
  readonly memberId: bigint;
  readonly name: string;
  readonly clientUrls: string[];
  readonly logger: Logger;
  isLeader(): boolean;
  clusterVersion(): string;
  proposeV2(req: V2Request): Promise<ApplyOutcome>;
}

export class Publication {
  private inFlightOrDone = false;
  private markPublished!: () => void;
  /** Resolves once this member has published its attributes through raft (etcd's ReadyNotify). */
  readonly published = new Promise<void>((resolve) => (this.markPublished = resolve));

  constructor(private readonly d: PublicationDeps) {}

  /** Announces name and client URLs, then the leader sets the cluster version; once at a time. */
  publishOnce(): void {
    if (this.inFlightOrDone) return;
    this.inFlightOrDone = true;
    const d = this.d;
    d.proposeV2(publishRequest(d.memberId, { name: d.name, clientURLs: d.clientUrls }))
      .then(() => {
        d.logger.info({ name: d.name, clientUrls: d.clientUrls }, 'published local member to cluster through raft');
        this.markPublished();
      })
      .then(() => (d.isLeader() && d.clusterVersion() === '' ? d.proposeV2(clusterVersionRequest(CLUSTER_VERSION)) : undefined))
      .catch((err: unknown) => {
        this.inFlightOrDone = false;
        d.logger.warn({ err: String(err) }, 'failed to publish member attributes; will retry');
      });
  }
}
