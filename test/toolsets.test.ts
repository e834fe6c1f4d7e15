// Toolsets and single-tool choices: what an operator picks is exactly what tools/list carries, and a
// name that matches nothing stops the server with an error naming it.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { chooseTools, DEFAULT_TOOLSETS, TOOLSETS, ToolChoiceError } from '../src/manifest/toolsets.js';
import manifest from '../src/generated/manifest.json' with { type: 'json' };
import { startFakeProxmox } from './fake-proxmox/index.js';
import { CLI, connect, fakeEnv } from './support/mcp.js';

const tools = manifest.tools as { name: string; toolset: string }[];
const BASE = { PROXMOX_HOST: 'pve.example.com', PROXMOX_TOKEN_ID: 'root@pam!mcp', PROXMOX_TOKEN_SECRET: 'aaaaaaaa-bbbb' };

describe('choosing tools', () => {
  it('puts every built-in tool in a toolset other than api, and lists all of them by default', () => {
    for (const t of tools) expect(DEFAULT_TOOLSETS).toContain(t.toolset);
    expect(chooseTools(tools, loadConfig(BASE).tools)).toHaveLength(tools.length);
    expect(DEFAULT_TOOLSETS).not.toContain('api');
    expect(TOOLSETS).toContain('api');
  });

  it('keeps only the chosen toolsets, adds allowed tools and drops denied ones', () => {
    const choice = loadConfig({ ...BASE, PROXMOX_MCP_TOOLSETS: 'guests, ha', PROXMOX_MCP_TOOLS_ALLOW: 'get_nodes', PROXMOX_MCP_TOOLS_DENY: 'get_vm_pending,get_ha_status' }).tools;
    const names = chooseTools(tools, choice).map((t) => t.name);
    expect(names).toContain('get_nodes');
    expect(names).toContain('get_ha_resources');
    expect(names).not.toContain('get_ha_status');
    expect(names).not.toContain('get_vm_pending');
    expect(names).not.toContain('get_node_status');
    const expected = tools.filter((t) => (['guests', 'ha'].includes(t.toolset) || t.name === 'get_nodes') && !['get_vm_pending', 'get_ha_status'].includes(t.name));
    expect(names).toEqual(expected.map((t) => t.name));
  });

  it('refuses unknown toolsets and tool names, naming each', () => {
    const choice = loadConfig({ ...BASE, PROXMOX_MCP_TOOLSETS: 'guest', PROXMOX_MCP_TOOLS_ALLOW: 'get_vm', PROXMOX_MCP_TOOLS_DENY: 'nope' }).tools;
    expect(() => chooseTools(tools, choice)).toThrow(ToolChoiceError);
    expect(() => chooseTools(tools, choice)).toThrow(/PROXMOX_MCP_TOOLSETS: unknown toolset "guest" \(did you mean "guests"\?\)[^]*PROXMOX_MCP_TOOLS_ALLOW: unknown tool "get_vm"[^]*PROXMOX_MCP_TOOLS_DENY: unknown tool "nope"/);
  });
});

describe('toolsets over stdio', () => {
  it('PROXMOX_MCP_TOOLSETS=guests lists only the guest tools, and they answer', async () => {
    const fake = await startFakeProxmox();
    const mcp = await connect(fakeEnv(fake, { PROXMOX_MCP_TOOLSETS: 'guests' }));
    try {
      const { tools: listed } = await mcp.client.listTools();
      expect(listed.map((t) => t.name)).toEqual(tools.filter((t) => t.toolset === 'guests').map((t) => t.name));
      const r = await mcp.client.callTool({ name: 'get_vms', arguments: { limit: 1 } });
      expect(r.isError).not.toBe(true);
    } finally {
      await mcp.close();
      await fake.close();
    }
  });

  it('an unknown tool name stops the server with exit code 2 and the name on stderr', () => {
    const r = spawnSync(process.execPath, [CLI], { env: { ...BASE, PATH: process.env.PATH ?? '', PROXMOX_MCP_TOOLS_DENY: 'get_nodez' }, input: '', encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/PROXMOX_MCP_TOOLS_DENY: unknown tool "get_nodez"/);
    expect(r.stdout).toBe('');
  });
});
