// Adding a tool is a YAML edit: a temporary copy of tools.yaml gains an entry, and the built server
// offers and runs it with no code change.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { call, connect, fakeEnv, type Connected } from './support/mcp.js';

const EXTRA = `
  - name: yaml_only_node_versions
    title: Package versions (added by a test)
    description: >-
      Versions of the Proxmox packages installed on one node, added to the manifest by a test to prove
      that a tool needs nothing but YAML.
    path: /nodes/{node}/apt/versions
    privilege: Sys.Audit
    toolset: cluster
    params:
      node: { description: Node name. }
      package: { in: filter, field: Package, schema: { type: string, maxLength: 64 } }
    output:
      shape: list
      key: Package
      fields: [Package, Version]
`;

describe('a tool added by YAML alone', () => {
  let fake: FakeProxmox;
  let mcp: Connected;

  beforeAll(async () => {
    fake = await startFakeProxmox();
    const dir = mkdtempSync(join(tmpdir(), 'pmcp-yaml-'));
    const file = join(dir, 'tools.yaml');
    writeFileSync(file, readFileSync(new URL('../tools.yaml', import.meta.url), 'utf8') + EXTRA);
    mcp = await connect(fakeEnv(fake, { PROXMOX_MCP_TOOLS: file }));
  });
  afterAll(async () => {
    await mcp.close();
    await fake.close();
  });

  it('is listed, read-only', async () => {
    const { tools } = await mcp.client.listTools();
    const t = tools.find((x) => x.name === 'yaml_only_node_versions');
    expect(t?.annotations?.readOnlyHint).toBe(true);
    expect(Object.keys(t?.inputSchema.properties ?? {})).toEqual(['node', 'package', 'limit', 'offset', 'fields']);
  });

  it('runs against Proxmox and shapes the answer as declared', async () => {
    const r = await call(mcp.client, 'yaml_only_node_versions', { node: 'pve1' });
    expect(r.isError).toBe(false);
    const items = r.structured?.items as Record<string, unknown>[];
    expect(items.length).toBeGreaterThan(0);
    expect(Object.keys(items[0] ?? {}).sort()).toEqual(['Package', 'Version']);
    const names = items.map((i) => i.Package as string);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
    const one = await call(mcp.client, 'yaml_only_node_versions', { node: 'pve1', package: names[0] });
    expect((one.structured?.items as unknown[]).length).toBe(1);
    expect(fake.requests.some((q) => q.path === '/api2/json/nodes/pve1/apt/versions')).toBe(true);
  });
});
