// Several clusters in one server, against two fake clusters at once: every tool names its cluster,
// list tools merge every cluster's rows, one cluster down stops neither the server nor the others'
// answers, and the token check runs per cluster.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/cli/config.js';
import manifest from '../src/generated/manifest.json' with { type: 'json' };
import { createLogger } from '../src/logger.js';
import type { CompiledTool } from '../src/manifest/compile.js';
import type { Upstream } from '../src/proxmox/client.js';
import { pve } from '../src/proxmox/api/pve.js';
import { withClusterArgument } from '../src/tools/clusters.js';
import { createRuntime, LISTING_REREAD } from '../src/tools/runtime.js';
import { makeCluster, makeToken, PVE_AUDITOR, startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { call, CLI, connect, type Connected } from './support/mcp.js';
import { callBody, JSON_HEADERS, message, raw, startHttp } from './support/http.js';

const dir = mkdtempSync(join(tmpdir(), 'pmcp-clusters-'));

function clustersFile(body: string, mode = 0o600): string {
  const file = join(dir, `clusters-${String(Math.random()).slice(2)}.yaml`);
  writeFileSync(file, body);
  chmodSync(file, mode);
  return file;
}

function entry(name: string, fake: FakeProxmox, secretEnv: string): string {
  return `  - name: ${name}\n    host: 127.0.0.1\n    port: ${fake.port}\n    token_id: "${fake.tokenId}"\n    token_secret_env: ${secretEnv}\n    ca_file: ${fake.caFile}\n`;
}

describe('two clusters over stdio', () => {
  let prod: FakeProxmox;
  let lab: FakeProxmox;
  let mcp: Connected;

  beforeAll(async () => {
    prod = await startFakeProxmox({ cluster: makeCluster({ nodes: 3, guestsPerNode: 4 }) });
    // The lab token may power guests: the token check says so, for that cluster.
    lab = await startFakeProxmox({ cluster: makeCluster({ nodes: 2, offline: [], guestsPerNode: 2 }), tokens: [makeToken('lab@pve!mcp', { '/': { ...PVE_AUDITOR, 'VM.PowerMgmt': 1 } })] });
    const file = clustersFile(`clusters:\n${entry('prod', prod, 'PROD_SECRET')}${entry('lab', lab, 'LAB_SECRET')}`);
    mcp = await connect({ PATH: process.env.PATH ?? '', PROXMOX_MCP_CLUSTERS: file, PROD_SECRET: prod.tokenSecret, LAB_SECRET: lab.tokenSecret });
  });
  afterAll(async () => {
    await mcp.close();
    await prod.close();
    await lab.close();
  });

  it('gives every tool a cluster argument (lists also "*") and lists get_clusters', async () => {
    const { tools } = await mcp.client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName.get_clusters).toBeDefined();
    expect(byName.get_vms?.inputSchema.properties?.cluster).toEqual({ enum: ['prod', 'lab', '*'], description: 'default prod; "*" = all, merged' });
    expect(byName.get_node_status?.inputSchema.properties?.cluster).toEqual({ enum: ['prod', 'lab'], description: 'default prod' });
    for (const t of tools.filter((x) => x.name !== 'get_clusters')) expect(Object.keys(t.inputSchema.properties ?? {})).toContain('cluster');
  });

  it('answers from the cluster asked for, the first by default', async () => {
    const lab1 = await call(mcp.client, 'get_nodes', { cluster: 'lab' });
    expect((lab1.structured?.items as { node: string }[]).map((n) => n.node)).toEqual(['pve1', 'pve2']);
    const first = await call(mcp.client, 'get_nodes');
    expect((first.structured?.items as { node: string }[]).map((n) => n.node)).toEqual(['pve1', 'pve2', 'pve3']);
    const bad = await call(mcp.client, 'get_nodes', { cluster: 'nope' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/"cluster" must be one of \["prod","lab","\*"\]/);
  });

  it('merges a list across clusters, each row saying its cluster, sorted and paged as one', async () => {
    const all = await call(mcp.client, 'get_vms', { cluster: '*', limit: 100 });
    expect(all.isError).toBe(false);
    const items = all.structured?.items as { cluster: string; vmid: number }[];
    const prodOnly = await call(mcp.client, 'get_vms', { cluster: 'prod', limit: 100 });
    const labOnly = await call(mcp.client, 'get_vms', { cluster: 'lab', limit: 100 });
    expect(all.structured?.total).toBe((prodOnly.structured?.total as number) + (labOnly.structured?.total as number));
    expect(new Set(items.map((i) => i.cluster))).toEqual(new Set(['prod', 'lab']));
    expect(items.map((i) => i.vmid)).toEqual([...items.map((i) => i.vmid)].sort((a, b) => a - b));
    const page = await call(mcp.client, 'get_vms', { cluster: '*', limit: 3, offset: 3 });
    expect((page.structured?.items as unknown[]).length).toBe(3);
    expect(page.structured?.next_offset).toBe(6);
  });

  it('said per cluster that the lab token holds more than auditing', () => {
    expect(mcp.stderr()).toMatch(/cluster lab: the token lab@pve!mcp holds privileges beyond read-only auditing: \/: VM\.PowerMgmt/);
    expect(mcp.stderr()).not.toMatch(/cluster prod: the token/);
    expect(mcp.stderr()).toMatch(/serving \d+ read-only tools for 2 clusters \(prod, lab\)/);
  });

  it('with one cluster down, the others still answer and the merged list says which failed', async () => {
    await lab.close();
    const all = await call(mcp.client, 'get_vms', { cluster: '*' });
    expect(all.isError).toBe(false);
    expect(new Set((all.structured?.items as { cluster: string }[]).map((i) => i.cluster))).toEqual(new Set(['prod']));
    const failed = all.structured?.clusters_failed as { cluster: string; error: string }[];
    expect(failed.map((f) => f.cluster)).toEqual(['lab']);
    expect(failed[0]?.error).toMatch(/Cannot reach/);
    const clusters = await call(mcp.client, 'get_clusters');
    const rows = clusters.structured?.items as { cluster: string; reachable: boolean; release?: string; quorate?: boolean; nodes?: number }[];
    expect(rows.find((r) => r.cluster === 'prod')).toMatchObject({ reachable: true, quorate: true, nodes: 3 });
    expect(rows.find((r) => r.cluster === 'prod')?.release).toMatch(/^\d+\.\d+/);
    expect(rows.find((r) => r.cluster === 'lab')?.reachable).toBe(false);
    const prodNodes = await call(mcp.client, 'get_nodes', { cluster: 'prod' });
    expect(prodNodes.isError).toBe(false);
  });
});

describe('two clusters over HTTP', () => {
  it('starts as stdio does: the chosen toolsets, a cluster argument, merged lists, and /readyz', async () => {
    const prod = await startFakeProxmox({ cluster: makeCluster({ nodes: 3, guestsPerNode: 4 }) });
    const lab = await startFakeProxmox({ cluster: makeCluster({ nodes: 2, offline: [], guestsPerNode: 2 }) });
    const file = clustersFile(`clusters:\n${entry('prod', prod, 'PROD_SECRET')}${entry('lab', lab, 'LAB_SECRET')}`);
    const server = await startHttp({ PATH: process.env.PATH ?? '', PROXMOX_MCP_CLUSTERS: file, PROD_SECRET: prod.tokenSecret, LAB_SECRET: lab.tokenSecret, PROXMOX_MCP_TOOLSETS: 'guests' });
    try {
      expect(server.stderr()).toMatch(/serving \d+ read-only tools for 2 clusters \(prod, lab\) at http:/);
      const listed = message((await raw(server.url, { headers: JSON_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }) })).body);
      const tools = (listed.result?.tools ?? []) as { name: string; inputSchema: { properties?: Record<string, unknown> } }[];
      expect(tools.map((t) => t.name)).toContain('get_vms');
      expect(tools.map((t) => t.name)).not.toContain('get_nodes');
      expect(tools.find((t) => t.name === 'get_vms')?.inputSchema.properties?.cluster).toEqual({ enum: ['prod', 'lab', '*'], description: 'default prod; "*" = all, merged' });
      const all = message((await raw(server.url, { headers: JSON_HEADERS, body: callBody('get_vms', { cluster: '*', limit: 100 }) })).body);
      const items = (all.result?.structuredContent as { items: { cluster: string }[] }).items;
      expect(new Set(items.map((i) => i.cluster))).toEqual(new Set(['prod', 'lab']));
      expect((await raw(server.url.replace(/\/mcp$/, '/readyz'), { method: 'GET' })).status).toBe(200);
    } finally {
      await server.stop();
      await prod.close();
      await lab.close();
    }
  });
});

describe('a merged list, paged', () => {
  it('says a later page was read afresh when its merged listing is not held by this process', async () => {
    const guests = (prefix: number): Upstream => ({
      get: () => Promise.resolve({ ok: true, data: Array.from({ length: 30 }, (_, i) => ({ vmid: prefix + i, name: `g${prefix + i}`, type: 'qemu', node: 'pve1', status: 'running' })) }),
      read: () => Promise.resolve({ ok: false, status: 0, kind: 'network', message: 'unused' }),
      close: () => Promise.resolve(),
    });
    const clusters = [
      { name: 'prod', upstream: guests(100) },
      { name: 'lab', upstream: guests(500) },
    ];
    const limits = { callTimeoutMs: 5000, maxResultBytes: 24_000, rateLimitPerMinute: 1000, maxArgumentBytes: 4096, api: pve };
    const logger = createLogger({ level: 'ERROR', write: () => undefined });
    const base = (manifest as unknown as { tools: CompiledTool[] }).tools.find((t) => t.name === 'get_vms');
    if (base === undefined) throw new Error('get_vms is not in the manifest');
    const tool = withClusterArgument(base, ['prod', 'lab']);
    // Two processes behind one address: the second never answered the first page.
    const first = createRuntime(guests(100), limits, logger, { clusters });
    const other = createRuntime(guests(100), limits, logger, { clusters });
    const page1 = await first.call(tool, { cluster: '*', limit: 20, offset: 0 });
    expect(page1.structuredContent?.listing_reread).toBeUndefined();
    const kept = await first.call(tool, { cluster: '*', limit: 20, offset: 20 });
    expect(kept.structuredContent?.listing_reread).toBeUndefined();
    const afresh = await other.call(tool, { cluster: '*', limit: 20, offset: 20 });
    expect(afresh.isError).toBe(false);
    expect(afresh.structuredContent?.listing_reread).toBe(LISTING_REREAD);
  });
});

describe('the clusters file', () => {
  const BASE = { PATH: '' };

  it('refuses an inline secret in a file others can read, naming file, line and field', () => {
    const file = clustersFile('clusters:\n  - name: prod\n    host: pve.example.com\n    token_id: "root@pam!mcp"\n    token_secret: aaaa-bbbb\n', 0o644);
    expect(() => loadConfig({ ...BASE, PROXMOX_MCP_CLUSTERS: file })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, PROXMOX_MCP_CLUSTERS: file })).toThrow(`PROXMOX_MCP_CLUSTERS: ${file}:5: clusters[0].token_secret is written inline, but ${file} can be read by group or others`);
    chmodSync(file, 0o600);
    const config = loadConfig({ ...BASE, PROXMOX_MCP_CLUSTERS: file });
    expect(config.clusters.map((c) => [c.name, c.host, c.port, c.api.service])).toEqual([['prod', 'pve.example.com', 8006, 'PVE']]);
    expect(config.host).toBe('pve.example.com');
  });

  it('names the line and field of every other mistake', () => {
    const unknown = clustersFile('clusters:\n  - name: prod\n    host: pve.example.com\n    token_id: "root@pam!mcp"\n    token_secret_env: X\n    verify: false\n');
    expect(() => loadConfig({ ...BASE, X: 'aaaa-bbbb', PROXMOX_MCP_CLUSTERS: unknown })).toThrow(`${unknown}:6: clusters[0].verify is not a known key`);
    const twice = clustersFile('clusters:\n  - name: a\n    host: h1\n    token_id: "root@pam!mcp"\n    token_secret_env: X\n  - name: a\n    host: h2\n    token_id: "root@pam!mcp"\n    token_secret_env: X\n');
    expect(() => loadConfig({ ...BASE, X: 'aaaa-bbbb', PROXMOX_MCP_CLUSTERS: twice })).toThrow(`${twice}:6: clusters[1].name "a" is used by an earlier cluster`);
    // Too short to be redacted wherever it might appear: refused, and never echoed.
    expect(() => loadConfig({ ...BASE, X: 'zq7x', PROXMOX_MCP_CLUSTERS: twice })).toThrow(/clusters\[0\]\.token_secret_env is too short to be a token secret/);
    const unset = clustersFile('clusters:\n  - name: a\n    host: h1\n    token_id: "root@pam!mcp"\n    token_secret_env: NOT_SET\n');
    expect(() => loadConfig({ ...BASE, PROXMOX_MCP_CLUSTERS: unset })).toThrow(/clusters\[0\]\.token_secret_env names NOT_SET, which is not set/);
    const mixed = clustersFile('clusters:\n  - name: a\n    host: h1\n    token_id: "root@pam!mcp"\n    token_secret_env: X\n  - name: b\n    api: pbs\n    host: h2\n    token_id: "root@pam!mcp"\n    token_secret_env: X\n');
    expect(() => loadConfig({ ...BASE, X: 'aaaa-bbbb', PROXMOX_MCP_CLUSTERS: mixed })).toThrow(`${mixed}:7: clusters[1].api is Proxmox Backup Server, but the first cluster's is Proxmox VE: one server lists one API's tools`);
  });

  it('keeps the single-cluster variables as one cluster named default', () => {
    const config = loadConfig({ PROXMOX_HOST: 'pve.example.com', PROXMOX_TOKEN_ID: 'root@pam!mcp', PROXMOX_TOKEN_SECRET: 'aaaa-bbbb' });
    expect(config.clusters.map((c) => c.name)).toEqual(['default']);
  });
});

describe('doctor, per cluster', () => {
  it('checks each cluster on its own; one down fails its checks and not the others', async () => {
    const prod = await startFakeProxmox();
    const lab = await startFakeProxmox();
    const file = clustersFile(`clusters:\n${entry('prod', prod, 'PROD_SECRET')}${entry('lab', lab, 'LAB_SECRET')}`);
    lab.setFault(/version/, { kind: 'status', status: 503, reason: 'Service Unavailable' });
    try {
      const stderr = await new Promise<string>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'doctor'], { env: { PATH: process.env.PATH ?? '', PROXMOX_MCP_CLUSTERS: file, PROD_SECRET: prod.tokenSecret, LAB_SECRET: lab.tokenSecret }, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', () => {
          resolve(err);
        });
      });
      const [, prodPart = '', labPart = ''] = stderr.split(/^cluster (?:prod|lab):$/m);
      expect(prodPart).toMatch(/^PASS {2}reachability/m);
      expect(prodPart).toMatch(/^PASS {2}toolset guests/m);
      expect(labPart).toMatch(/^FAIL {2}reachability/m);
      expect(stderr).toMatch(/verdict: problems found/);
    } finally {
      await prod.close();
      await lab.close();
    }
  });
});
