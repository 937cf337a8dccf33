/*
 * The etcd daemon: parse the configuration, check the machine, start the member, serve the client
 * URLs (gRPC and HTTP on each), tell systemd we are ready, and stop cleanly on SIGTERM/SIGINT
 * (stop accepting, finish the Ready in flight, flush the backend, close the WAL, exit 0).
 */
import './hold-young-generation.js'; // first: before the other modules are evaluated
import module from 'node:module';
import path from 'node:path';
import type { Logger } from 'pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { peerApi } from '../api/peer/index.js';
import { capHeapGrowth } from '../platform/heap-growth.js';
import { reportHooksTo } from '../platform/hook-fence.js';
import { releaseYoungGeneration } from '../platform/young-generation.js';
import { tierUpSooner } from '../platform/tier-up.js';
import { listenClient, type ClientHandlers, type ClientListener } from '../platform/listen.js';
import type { H2GrpcRouter } from '../api/v3/h2-grpc.js';
import { listenPeer, type PeerListener } from '../platform/listen-peer.js';
import { peerTlsOptions, type PeerTls } from '../platform/peer-tls.js';
import type { PeerClientTls } from '../transport/dial.js';
import { nodeDisk } from '../platform/fs.js';
import { sdNotify } from '../platform/sd-notify.js';
import { buildTlsOptions } from '../platform/tls.js';
import type { ServerConfig } from '../server/config.js';
import { EtcdServer, SERVER_VERSION } from '../server/server.js';
import { BootstrapError } from '../server/join-existing.js';
import { MemberRemovedError } from '../server/errors.js';
import { ServerFacade } from '../server/v3-facade.js';
import { peerApiDeps } from '../server/peer-api-deps.js';
import { ConfigError, earlyAction, parseConfig, type Config } from './config.js';
import { damageOf } from './errors.js';
import { snapshotCatchUpEntries, walSegmentBytes } from './env.js';
import { makeLogger } from './logger.js';
import { startSteps } from '../pkg/start-steps.js';
import { flagsText, usageText, versionText } from './help.js';
import { isEtcdDataDir } from '../server/etcd-takeover.js';
import { readWalMetadata } from '../wal/index.js';
import { validateEnvironment, type ExistingData } from './validate.js';
import { formatUrl } from './values.js';

/** Whether the data dir holds a member already, and the --name it was created with (from its WAL). */
async function probeDataDir(c: Config): Promise<ExistingData> {
  // etcd 3.4's own data dir (taken over at start, server/etcd-takeover.ts): its WAL names no member
  if (!c.walDir && (await isEtcdDataDir(nodeDisk, c.dataDir))) return { exists: true };
  const walDir = c.walDir || path.join(c.dataDir, 'member', 'wal');
  const metadata = await readWalMetadata(walDir);
  return metadata ? { exists: true, memberName: metadata.name } : { exists: false };
}

export function toServerConfig(c: Config, logger: Logger, peerClientTls?: PeerClientTls): ServerConfig {
  const urls = (us: URL[]): string[] => us.map(formatUrl);
  return {
    name: c.name,
    dataDir: c.dataDir,
    walDir: c.walDir,
    snapshotCount: c.snapshotCount,
    snapshotCatchUpEntries: snapshotCatchUpEntries(process.env),
    watchProgressNotifyIntervalMs: c.experimentalWatchProgressNotifyIntervalMs,
    ...(walSegmentBytes(process.env) ? { walSegmentBytes: walSegmentBytes(process.env) } : {}),
    heartbeatIntervalMs: c.heartbeatIntervalMs,
    electionTimeoutMs: c.electionTimeoutMs,
    initialCluster: new Map([...c.initialCluster].map(([name, us]) => [name, urls(us)])),
    initialClusterState: c.initialClusterState,
    initialClusterToken: c.initialClusterToken,
    initialAdvertisePeerUrls: urls(c.initialAdvertisePeerUrls),
    advertiseClientUrls: urls(c.advertiseClientUrls),
    preVote: c.preVote,
    forceNewCluster: c.forceNewCluster,
    strictReconfigCheck: c.strictReconfigCheck,
    quotaBackendBytes: c.quotaBackendBytes,
    maxTxnOps: c.maxTxnOps,
    maxRequestBytes: c.maxRequestBytes,
    requestTimeoutMs: c.requestTimeoutMs,
    autoCompactionMode: c.autoCompactionMode,
    autoCompactionRetention: c.autoCompactionRetention,
    backendBatchIntervalMs: c.backendBatchIntervalMs,
    backendBatchLimit: c.backendBatchLimit,
    authToken: c.authToken,
    bcryptCost: c.bcryptCost,
    authTokenTtlSec: c.authTokenTtlSec,
    clientCertAuth: c.clientTls.clientCertAuth,
    logger,
    peerClientTls,
  };
}

/**
 * The client APIs' modules (gRPC, fastify and the JSON gateway, v2: about half of what a start
 * imports), loaded while the member reads its WAL and opens its stores (the file reads and LevelDB
 * work off the main thread meanwhile) instead of before anything else.
 */
type ClientApiModules = [typeof import('../api/http/index.js'), typeof import('../api/v2/index.js'), typeof import('../api/v3/server.js')];
function importClientApis(): Promise<ClientApiModules> {
  const p = Promise.all([import('../api/http/index.js'), import('../api/v2/index.js'), import('../api/v3/server.js')]);
  p.catch(() => undefined); // awaited (and its failure thrown) by serveClients
  return p;
}

async function serveClients(c: Config, server: EtcdServer, logger: Logger, apis: Promise<ClientApiModules>): Promise<ClientListener[]> {
  const [{ createHttpApp, http1Handler }, { v2Api }, { createGrpcServer, createH2Router }] = await apis;
  const facade = new ServerFacade(server);
  const grpcOpts = { maxRequestBytes: c.maxRequestBytes, maxTxnOps: c.maxTxnOps, metrics: server.metrics };
  // the JavaScript HTTP/2 by default; grpc-js (its Server, short path and injector) only when asked
  const grpcJs = process.env.ETCD_TS_HTTP2 === 'node';
  const grpcServer = grpcJs ? createGrpcServer(facade, grpcOpts) : undefined;
  const v2 = v2Api(facade, { metrics: server.metrics, clientCertAuth: c.clientTls.clientCertAuth, logger });
  const app = createHttpApp(facade, {
    logger,
    maxRequestBytes: c.maxRequestBytes,
    maxTxnOps: c.maxTxnOps,
    enableV2: c.enableV2,
    metrics: server.metrics,
    plugins: [v2.plugin],
    rawHandlers: [v2.keys, v2.auth],
  });
  await app.ready();
  // ETCD_TS_HTTP1=node: every HTTP/1.1 request through node:http and fastify, as before
  const http1 = process.env.ETCD_TS_HTTP1 === 'node' ? undefined
    : http1Handler(facade, { metrics: server.metrics, enableV2: c.enableV2, handlers: [v2.keysHttp1] });
  const hosts = c.listenClientUrls.map((u) => u.host);
  const tls = await buildTlsOptions(c.clientTls, path.join(c.dataDir, 'fixtures', 'client'), hosts, c.cipherSuites);
  if (tls) logger.info({ 'tls-info': tls.source, 'client-cert-auth': tls.requestCert }, 'starting with client TLS');
  const onReject = (r: object): void => logger.warn(r, 'rejected connection');
  const http2 = grpcJs ? undefined : jsHttp2(c, createH2Router(facade, grpcOpts));
  if (http2) logger.info({ ETCD_TS_HTTP2: 'js' }, 'serving gRPC with the JavaScript HTTP/2');
  else logger.info({ ETCD_TS_HTTP2: 'node' }, 'serving gRPC with grpc-js over node:http2');
  const listeners: ClientListener[] = [];
  for (const url of c.listenClientUrls) {
    const secure = url.protocol === 'https:' || url.protocol === 'unixs:';
    const l = await listenClient(url, { grpcServer, http: app, http1, http2 }, secure ? tls : undefined, { onReject });
    logger.info({ address: `${l.address.host}:${l.address.port}`, tls: secure }, 'serving client traffic');
    listeners.push(l);
  }
  return listeners;
}

/**
 * The client port's HTTP/2 connections are served by api/v3/h2-grpc.ts over platform/h2 (about half
 * of node:http2's CPU per call: docs/benchmarks.md); ETCD_TS_HTTP2=node serves them with grpc-js
 * over node:http2 instead, as before.
 */
function jsHttp2(c: Config, router: H2GrpcRouter): NonNullable<ClientHandlers['http2']> {
  const opts = {
    maxConcurrentStreams: c.maxConcurrentStreams,
    pingMinTimeMs: c.grpcKeepaliveMinTimeMs,
    keepaliveIntervalMs: c.grpcKeepaliveIntervalMs,
    keepaliveTimeoutMs: c.grpcKeepaliveTimeoutMs,
  };
  return (socket) => router.serve(socket, opts);
}

/** The peer TLS pieces (server options with etcd's checks, client options), as etcd applies --peer-*. */
async function peerTlsOf(c: Config, logger: Logger): Promise<PeerTls> {
  return peerTlsOptions(c.peerTls, {
    autoTlsDir: path.join(c.dataDir, 'fixtures', 'peer'),
    hosts: c.listenPeerUrls.map((u) => u.host),
    cipherSuites: c.cipherSuites,
    onReject: (r) => logger.warn(r, 'rejected connection'),
  });
}

/** Serves the peer URLs: raft's paths (the transport) and the peer API; Go's 404 for the rest. */
async function servePeers(c: Config, server: EtcdServer, tls: PeerTls, logger: Logger): Promise<PeerListener[]> {
  const api = peerApi(peerApiDeps(server));
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (server.peers.transport.handle(req, res) || api(req, res)) return;
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end('404 page not found\n');
  };
  const listeners: PeerListener[] = [];
  for (const url of c.listenPeerUrls) {
    const l = await listenPeer(url, handler, tls.server && { options: tls.server, guard: tls.guard });
    logger.info({ address: `${l.address.host}:${l.address.port}`, tls: url.protocol === 'https:' }, 'serving peer traffic');
    listeners.push(l);
  }
  return listeners;
}

/** The process's memory in MB, as process.memoryUsage() splits it (for the debug start steps). */
function memoryFields(): Record<string, number> {
  const m = process.memoryUsage();
  const mb = (n: number): number => Math.round(n / 1e5) / 10;
  return { rssMb: mb(m.rss), heapTotalMb: mb(m.heapTotal), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external), arrayBuffersMb: mb(m.arrayBuffers) };
}

/** A rejection handler: damage found in the data dir (damageOf) gets one fatal log line; rethrown (exit 1). */
function logDamage(logger: Logger): (err: unknown) => never {
  return (err) => {
    const damage = damageOf(err);
    if (damage !== undefined) {
      logger.fatal({ err: String(err) }, damage);
      logger.flush();
    }
    throw err;
  };
}

async function main(argv: string[]): Promise<number> {
  const early = earlyAction(argv);
  if (early === 'version') {
    process.stdout.write(versionText());
    return 0;
  }
  if (early === 'help') {
    process.stderr.write(usageText());
    process.stdout.write(flagsText());
    return 0;
  }
  const { config, warnings, notices } = parseConfig(argv, process.env);
  const clientApis = importClientApis();
  capHeapGrowth();
  const logger = makeLogger(config);
  reportHooksTo(logger);
  const steps = startSteps(logger);
  steps.mark('modules imported');
  logger.info({ etcdVersion: SERVER_VERSION, nodeVersion: process.version, os: process.platform, arch: process.arch, name: config.name, dataDir: config.dataDir }, 'starting an etcd server');
  for (const n of notices) logger.info(n);
  for (const w of warnings) logger.warn(w);
  for (const w of await validateEnvironment(config, probeDataDir).catch(logDamage(logger))) logger.warn(w);
  const peerTls = await peerTlsOf(config, logger);
  steps.mark('checked the environment');
  const server = await EtcdServer.start({ ...toServerConfig(config, logger, peerTls.client), steps }).catch(logDamage(logger));
  // A fatal error from here on ends the process with status 1 (systemd restarts it), even before
  // the member is ready; a removed member exits 0 as etcd's does.
  let fatal: (err: unknown) => void = () => undefined;
  const failed = new Promise<number>((resolve) => (fatal = (err) => resolve(err instanceof MemberRemovedError ? 0 : 1)));
  server.onFatal((err) => fatal(err));
  const peerListeners = await servePeers(config, server, peerTls, logger);
  steps.mark('peer listeners up');
  const listeners = await serveClients(config, server, logger, clientApis);
  steps.mark('client listeners up');
  // (a removed member's status is 0 too: it is told apart from ready, so it never says it is ready)
  const first = await Promise.race([server.ready().then(() => 'ready' as const), failed]);
  if (first !== 'ready') {
    logger.flush();
    return first;
  }
  steps.mark('published to the cluster', memoryFields());
  releaseYoungGeneration();
  tierUpSooner();
  await sdNotify('READY=1', { onError: (why) => logger.warn({ why }, 'could not notify systemd') });
  logger.info({ name: config.name, dataDir: config.dataDir }, 'ready to serve client requests');
  // the start's code is compiled now; Node writes its compile cache (bin/etcd) only at a normal exit,
  // and a member ends on a signal
  flushCompileCache();
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'received signal; shutting down');
      await sdNotify('STOPPING=1');
      await Promise.all(listeners.map((l) => l.close()));
      await server.stop(); // a leader hands over first, through the peer links still open
      await Promise.all(peerListeners.map((l) => l.close()));
      logger.flush();
      resolve(0);
    };
    void failed.then((code) => {
      logger.flush();
      resolve(code);
    });
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    if (err instanceof BootstrapError) {
      // etcd's plog.Fatalf: its text alone on the last line, status 1
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`etcd: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

/** Node 22.12+: writes the compile cache bin/etcd enabled (Node 22.1+) now; nothing on older Node. */
function flushCompileCache(): void {
  try {
    (module as { flushCompileCache?: () => void }).flushCompileCache?.();
  } catch {
    // a cache that cannot be written only costs the next start its compile time
  }
}
