// A fake Proxmox VE API for tests, benchmarks and the demo: it answers as a real host does
// (envelopes, error statuses and bodies, offline nodes, permission filtering, old-release quirks).
export { startFakeProxmox, makeToken, auditorToken, PVE_AUDITOR } from './server.js';
export type { FakeOptions, FakeProxmox, FakeToken, Fault, RecordedRequest } from './server.js';
export { makeCluster, makeBigCluster } from './cluster.js';
export type { ClusterModel, ClusterOptions, GuestModel, NodeModel, StorageModel, PoolModel, AgentState } from './cluster.js';
