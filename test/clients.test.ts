// Both protocol revisions over stdio, served by the same tools: the SDK v2 client in each of its
// negotiation modes (2025-era initialize, auto, pinned to 2026-07-28) and the SDK v1 client that
// most hosts ship. Each lists the tools and calls get_vms against the fake.
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { CLI, TOOL_COUNT, fakeEnv } from './support/mcp.js';

interface Listed {
  tools: { name: string }[];
  ttlMs?: unknown;
  cacheScope?: unknown;
}

interface Called {
  isError?: boolean;
  structuredContent?: { items?: { vmid?: number }[] };
}

let fake: FakeProxmox;
let env: Record<string, string>;
beforeAll(async () => {
  fake = await startFakeProxmox();
  env = fakeEnv(fake);
});
afterAll(async () => {
  await fake.close();
});

const lists: Record<string, string[]> = {};

describe.each([
  ['legacy', 'legacy' as const],
  ['auto', 'auto' as const],
  ['pinned 2026-07-28', { pin: '2026-07-28' }],
])('SDK v2 client, %s', (name, mode) => {
  it('lists the tools and calls get_vms', async () => {
    const client = new Client({ name: 'clients-test', version: '1.0.0' }, { versionNegotiation: { mode } });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI], env, stderr: 'ignore' }));
    try {
      const modern = mode !== 'legacy';
      const version = client.getNegotiatedProtocolVersion();
      if (modern) expect(version).toBe('2026-07-28');
      else expect(version).not.toBe('2026-07-28');
      expect(client.getServerCapabilities()?.tools?.listChanged).toBe(false);
      const listed = (await client.listTools()) as Listed;
      lists[name] = listed.tools.map((t) => t.name);
      expect(listed.tools).toHaveLength(TOOL_COUNT);
      if (modern) expect({ ttlMs: listed.ttlMs, cacheScope: listed.cacheScope }).toEqual({ ttlMs: 600_000, cacheScope: 'public' });
      const vms = (await client.callTool({ name: 'get_vms', arguments: { limit: 5 } })) as Called;
      expect(vms.isError).not.toBe(true);
      expect(vms.structuredContent?.items?.length).toBe(5);
    } finally {
      await client.close();
    }
  });
});

describe('SDK v1 client', () => {
  it('lists the tools and calls get_vms', async () => {
    const client = new V1Client({ name: 'clients-test', version: '1.0.0' });
    await client.connect(new V1StdioClientTransport({ command: process.execPath, args: [CLI], env, stderr: 'ignore' }));
    try {
      expect(client.getServerCapabilities()?.tools?.listChanged).toBe(false);
      const listed = await client.listTools();
      lists.v1 = listed.tools.map((t) => t.name);
      expect(listed.tools).toHaveLength(TOOL_COUNT);
      const vms = (await client.callTool({ name: 'get_vms', arguments: { limit: 5 } })) as Called;
      expect(vms.isError).not.toBe(true);
      expect(vms.structuredContent?.items?.length).toBe(5);
    } finally {
      await client.close();
    }
  });
});

describe('across clients and revisions', () => {
  it('tools/list is the same list in the same order', () => {
    const all = Object.values(lists);
    expect(all).toHaveLength(4);
    for (const names of all) expect(names).toEqual(all[0]);
  });
});
