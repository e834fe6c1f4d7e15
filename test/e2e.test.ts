// End to end, as a host runs it: the built server spawned over stdio, the SDK's client, the fake
// Proxmox over real TLS with the CA file and verification on.
import { describe, expect, it } from 'vitest';
import { startFakeProxmox } from './fake-proxmox/index.js';
import { call, connect, fakeEnv } from './support/mcp.js';
import { serverSuite } from './support/suite.js';
import manifest from '../src/generated/manifest.json' with { type: 'json' };

const SEED = ['get_nodes', 'get_node_status', 'get_vms', 'get_storage', 'get_cluster_status'];

function templateRegex(template: string): RegExp {
  return new RegExp(`^/api2/json${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
}

describe('the five seed tools over stdio', () => {
  const suite = serverSuite();

  it('lists the seed tools with all four annotations and 2020-12 schemas', async () => {
    const { tools } = await suite.mcp.client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of SEED) expect(names).toContain(name);
    for (const tool of tools) {
      expect(tool.annotations).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(JSON.stringify(tool)).not.toContain('draft-07');
      expect(tool.inputSchema).not.toHaveProperty('$schema');
    }
  });

  it('checks the bounds tools/list leaves out, with errors that state them', async () => {
    const long = await call(suite.mcp.client, 'get_vms', { name: 'x'.repeat(65) });
    expect(long.isError).toBe(true);
    expect(long.text).toMatch(/"name" must NOT have more than 64 characters/);
    const big = await call(suite.mcp.client, 'get_node_status', { node: 'pve1', vmid: 1 });
    expect(big.isError).toBe(true);
    expect(big.text).toMatch(/unknown argument "vmid"; this tool takes node/);
    const page = await call(suite.mcp.client, 'get_vms', { limit: 0 });
    expect(page.text).toMatch(/"limit" must be >= 1/);
    const id = await call(suite.mcp.client, 'get_vm_status', { node: 'pve1', vmid: 10_000_000_000 });
    expect(id.text).toMatch(/"vmid" must be <= 999999999/);
    expect(suite.fake.requests.filter((r) => r.path.includes('10000000000'))).toEqual([]);
  });

  it('get_nodes lists every node, the offline one without metrics', async () => {
    const r = await call(suite.mcp.client, 'get_nodes');
    expect(r.isError).toBe(false);
    const items = r.structured?.items as Record<string, unknown>[];
    expect(items.map((n) => n.node)).toEqual(['pve1', 'pve2', 'pve3']);
    expect(items[2]).toEqual({ node: 'pve3', status: 'offline' });
    expect(items[0]?.cpu_pct).toEqual(expect.any(Number));
    expect(items[0]?.maxmem).toMatch(/GiB$/);
    expect(JSON.parse(r.text)).toEqual(r.structured);
  });

  it('get_node_status answers for a live node', async () => {
    const r = await call(suite.mcp.client, 'get_node_status', { node: 'pve1' });
    expect(r.isError).toBe(false);
    expect(r.structured?.pveversion).toMatch(/^pve-manager\//);
    expect((r.structured?.memory as Record<string, unknown>).total).toMatch(/iB$/);
  });

  it('get_vms lists guests from every node and names the offline one', async () => {
    const r = await call(suite.mcp.client, 'get_vms', { limit: 500 });
    expect(r.isError).toBe(false);
    const s = r.structured as { items: Record<string, unknown>[]; total: number; offline_nodes: string[] };
    expect(s.offline_nodes).toEqual(['pve3']);
    expect(s.total).toBe(s.items.length);
    expect(new Set(s.items.map((g) => g.node))).toEqual(new Set(['pve1', 'pve2', 'pve3']));
    for (const g of s.items.filter((x) => x.node === 'pve3')) expect(g.status).toBe('unknown');
    expect(s.items.every((g) => typeof g.vmid === 'number')).toBe(true);
    const vmids = s.items.map((g) => g.vmid as number);
    expect(vmids).toEqual([...vmids].sort((a, b) => a - b));
  });

  it('get_vms filters by node, status and tag', async () => {
    const r = await call(suite.mcp.client, 'get_vms', { node: 'pve1', status: 'running' });
    const items = (r.structured?.items ?? []) as Record<string, unknown>[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((g) => g.node === 'pve1' && g.status === 'running')).toBe(true);
    const tagged = await call(suite.mcp.client, 'get_vms', { tag: 'prod' });
    const tItems = tagged.structured?.items as { tags?: string[] }[];
    expect(tItems.length).toBeGreaterThan(0);
    expect(tItems.every((g) => g.tags?.includes('prod'))).toBe(true);
  });

  it('get_storage shows usage per node', async () => {
    const r = await call(suite.mcp.client, 'get_storage', { node: 'pve1' });
    const items = r.structured?.items as Record<string, unknown>[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((s) => s.node === 'pve1' && typeof s.shared === 'boolean')).toBe(true);
    expect(items[0]?.used_pct).toEqual(expect.any(Number));
  });

  it('get_cluster_status shows quorum and the offline member', async () => {
    const r = await call(suite.mcp.client, 'get_cluster_status');
    const items = r.structured?.items as Record<string, unknown>[];
    expect(items.find((i) => i.type === 'cluster')?.quorate).toBe(true);
    expect(items.find((i) => i.name === 'pve3')?.online).toBe(false);
  });

  it('an offline node gives a clear error', async () => {
    const r = await call(suite.mcp.client, 'get_node_status', { node: 'pve3' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/pve3 is unreachable.*offline/);
  });

  it('an unknown node gives a clear error naming the next step', async () => {
    const r = await call(suite.mcp.client, 'get_node_status', { node: 'nosuchnode' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/Unknown node "nosuchnode".*get_nodes/);
  });

  it('a wrong argument is refused before anything is sent', async () => {
    const before = suite.fake.requests.length;
    for (const args of [{ node: '../../access' }, { node: 'pve1', extra: 1 }, {}, { node: 42 }]) {
      const r = await call(suite.mcp.client, 'get_node_status', args);
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/argument|node/i);
    }
    expect(suite.fake.requests.length).toBe(before);
  });

  it('an unknown tool is a protocol error', async () => {
    await expect(suite.mcp.client.callTool({ name: 'set_vm_power', arguments: {} })).rejects.toThrow(/not found/);
  });

  it('sent only GET requests to allowed paths', () => {
    const allowed = [...manifest.tools.map((t) => t.path), '/access/permissions', '/version'].map(templateRegex);
    expect(suite.fake.requests.length).toBeGreaterThan(5);
    for (const r of suite.fake.requests) {
      expect(r.method).toBe('GET');
      expect(allowed.some((re) => re.test(r.path))).toBe(true);
    }
  });

  it('logs nothing but lines on stderr, and never the secret', () => {
    expect(suite.mcp.stderr()).toContain('serving');
    expect(suite.mcp.stderr()).not.toContain(suite.fake.tokenSecret);
  });
});

describe('a missing VM and a bad token', () => {
  it('a bad token gives a clear error', async () => {
    const fake = await startFakeProxmox();
    const mcp = await connect(fakeEnv(fake, { PROXMOX_TOKEN_SECRET: 'wrong-secret-0000' }));
    try {
      const r = await call(mcp.client, 'get_nodes');
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/rejected the API token \(401\).*PROXMOX_TOKEN_SECRET/);
    } finally {
      await mcp.close();
      await fake.close();
    }
  });
});
