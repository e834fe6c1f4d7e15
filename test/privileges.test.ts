// Privileges come from the pinned API's own checks: a hand-written one that disagrees is refused at
// build, and a token that lacks a privilege does not see (or is told it cannot use) the tools that
// need it, while the rest keep working. Lists whose rows Proxmox filters say when rows may be missing.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileManifest, ManifestError } from '../src/manifest/compile.js';
import { permissionCheck, privilegeDisagreement, TokenPrivileges } from '../src/manifest/permissions.js';
import { pve } from '../src/proxmox/api/pve.js';
import { judgeTools, listedTools } from '../src/tools/access.js';
import manifest from '../src/generated/manifest.json' with { type: 'json' };
import type { CompiledTool } from '../src/manifest/compile.js';
import { makeToken, startFakeProxmox } from './fake-proxmox/index.js';
import { call, CLI, connect, fakeEnv } from './support/mcp.js';
import { serverSuite } from './support/suite.js';

const SPEC = JSON.parse(readFileSync('spec/proxmox-ve.openapi.json', 'utf8')) as unknown;
const tools = manifest.tools as unknown as CompiledTool[];
const toolset = (set: string): string[] => tools.filter((t) => t.toolset === set).map((t) => t.name);
// VM.Audit but not Sys.Audit: guests are visible, nodes are not.
const GUESTS_ONLY = { '/': { 'VM.Audit': 1 as const, 'Datastore.Audit': 1 as const } };

function one(privilege: string, path = '/nodes/{node}/status'): string {
  return `version: 1\ntools:\n  - name: t_one\n    title: One\n    description: A test tool that reads one thing from Proxmox.\n    toolset: nodes\n    path: ${path}\n    privilege: ${privilege}\n    params:\n      node: {}\n`;
}

describe('privileges from the pinned API', () => {
  it('derives each tool\'s privilege and path from x-pve-permissions', () => {
    const status = tools.find((t) => t.name === 'get_node_status');
    expect(status?.privilege).toBe('Sys.Audit on /nodes/{node}');
    expect(status?.permission.check).toEqual({ perm: '/nodes/{node}', privs: ['Sys.Audit'], any: false });
    expect(tools.find((t) => t.name === 'get_vm_os_info')?.privilege).toBe('VM.GuestAgent.Audit or VM.GuestAgent.Unrestricted on /vms/{vmid}');
    // Where the API lets any token in and filters rows, tools.yaml names what a row needs.
    expect(tools.find((t) => t.name === 'get_vms')?.permission).toEqual({ rows: 'VM.Audit' });
    expect(tools.find((t) => t.name === 'get_version')?.privilege).toBe('any token');
  });

  it('refuses a tools.yaml privilege that disagrees with the pinned API, naming line and field', () => {
    expect(() => compileManifest(one('Sys.Audit'), SPEC)).not.toThrow();
    let error: unknown;
    try {
      compileManifest(one('VM.Audit'), SPEC);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).problems).toEqual([
      'tools.yaml:8: tool "t_one": privilege: "VM.Audit" disagrees with the pinned API, which checks Sys.Audit on /nodes/{node}; write the privilege it checks, or leave privilege out',
    ]);
    // A privilege beyond the check disagrees too; either one of an "any" list agrees.
    const agent = permissionCheck({ check: ['perm', '/vms/{vmid}', ['VM.GuestAgent.Audit', 'VM.GuestAgent.Unrestricted'], 'any', 1] });
    expect(agent).toBeDefined();
    if (agent === undefined) return;
    expect(privilegeDisagreement('VM.GuestAgent.Unrestricted', agent)).toBeUndefined();
    expect(privilegeDisagreement('VM.GuestAgent.Audit, Sys.Audit', agent)).toMatch(/disagrees/);
    expect(() => compileManifest(one('any token', '/version').replace(/ {4}params:\n {6}node: \{\}\n/, ''), SPEC)).toThrow(/"any token" is not a privilege name/);
  });

  it('judges tools by the token\'s privileges, inherited down the tree', () => {
    const judged = judgeTools(tools, new TokenPrivileges(GUESTS_ONLY, pve.rowSpaces));
    const missing = Object.fromEntries(judged.map((j) => [j.tool.name, j.missing]));
    expect(missing.get_node_status).toBe('Sys.Audit on /nodes/{node}');
    expect(missing.get_nodes).toBe('Sys.Audit on /nodes');
    expect(missing.get_vm_status).toBeUndefined();
    expect(missing.get_vms).toBeUndefined();
    expect(missing.get_version).toBeUndefined();
    const listed = listedTools(judged, 'hide').map((t) => t.name);
    for (const name of toolset('guests')) expect(listed).toContain(name);
    for (const name of toolset('nodes')) expect(listed).not.toContain(name);
    const shown = listedTools(judged, 'show');
    expect(shown).toHaveLength(tools.length);
    expect(shown.find((t) => t.name === 'get_node_status')?.description).toMatch(/Not usable with this token: it lacks Sys\.Audit on \/nodes\/\{node\}\.$/);
    // A privilege granted on one node only: usable there; granted on one guest only: rows may be missing.
    const partial = judgeTools(tools, new TokenPrivileges({ '/nodes/pve1': { 'Sys.Audit': 1 }, '/vms/100': { 'VM.Audit': 1 } }, pve.rowSpaces));
    const byName = Object.fromEntries(partial.map((j) => [j.tool.name, j]));
    expect(byName.get_node_status?.missing).toBeUndefined();
    expect(byName.get_vms?.partial).toBe('VM.Audit on part of /vms');
    expect(byName.get_cluster_status?.missing).toBe('Sys.Audit on /');
  });
});

describe('a token with VM.Audit but not Sys.Audit, over stdio', () => {
  const suite = serverSuite(() => ({ tokens: [makeToken('guest@pve!look', GUESTS_ONLY)] }));

  it('does not list the node tools, lists the guest tools, and they answer', async () => {
    const { tools: listed } = await suite.mcp.client.listTools();
    const names = listed.map((t) => t.name);
    for (const name of toolset('nodes')) expect(names).not.toContain(name);
    for (const name of toolset('guests')) expect(names).toContain(name);
    const vms = await call(suite.mcp.client, 'get_vms', { limit: 5 });
    expect(vms.isError).toBe(false);
    expect((vms.structured?.items as unknown[]).length).toBeGreaterThan(0);
    expect(vms.structured).not.toHaveProperty('permissions');
    const vmid = (vms.structured?.items as { vmid: number; node: string; type: string }[]).find((v) => v.type === 'qemu');
    const status = await call(suite.mcp.client, 'get_vm_status', { node: vmid?.node ?? '', vmid: vmid?.vmid ?? 0 });
    expect(status.isError).toBe(false);
    expect(suite.mcp.stderr()).toMatch(/tool\(s\) not listed: this token lacks what they need \([^)]*get_node_status/);
  });
});

describe('unusable tools shown, and rows that may be missing', () => {
  it('PROXMOX_MCP_UNUSABLE_TOOLS=show lists node tools with what is missing; a 403 still explains itself', async () => {
    const fake = await startFakeProxmox({ tokens: [makeToken('guest@pve!look', GUESTS_ONLY)] });
    const mcp = await connect(fakeEnv(fake, { PROXMOX_MCP_UNUSABLE_TOOLS: 'show' }));
    try {
      const { tools: listed } = await mcp.client.listTools();
      expect(listed).toHaveLength(tools.length);
      expect(listed.find((t) => t.name === 'get_node_status')?.description).toMatch(/Not usable with this token: it lacks Sys\.Audit on \/nodes\/\{node\}\./);
      expect(listed.find((t) => t.name === 'get_vm_status')?.description).not.toMatch(/Not usable/);
      const r = await call(mcp.client, 'get_node_status', { node: 'pve1' });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/Permission denied by Proxmox/);
    } finally {
      await mcp.close();
      await fake.close();
    }
  });

  it('a list where the token sees only part of the tree says rows may be missing', async () => {
    const fake = await startFakeProxmox({ tokens: [makeToken('guest@pve!one', { '/vms/100': { 'VM.Audit': 1 } })] });
    const mcp = await connect(fakeEnv(fake));
    try {
      const r = await call(mcp.client, 'get_vms');
      expect(r.isError).toBe(false);
      expect((r.structured?.items as { vmid: number }[]).map((v) => v.vmid)).toEqual([100]);
      expect(r.structured?.permissions).toBe('rows may be missing: this token lacks VM.Audit on part of /vms, and Proxmox leaves out what a token may not see');
    } finally {
      await mcp.close();
      await fake.close();
    }
  });
});

describe('doctor, per toolset', () => {
  it('says which tools this token can use and what to grant for the rest', async () => {
    const fake = await startFakeProxmox({ tokens: [makeToken('guest@pve!look', GUESTS_ONLY)] });
    try {
      const stderr = await new Promise<string>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'doctor'], { env: fakeEnv(fake), stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', () => {
          resolve(err);
        });
      });
      expect(stderr).toMatch(/^PASS {2}toolset guests +all \d+ usable: get_vms, /m);
      expect(stderr).toMatch(/^WARN {2}toolset nodes +0 of \d+ usable; not usable: get_nodes, [^\n]*: grant Sys\.Audit on \/nodes; Sys\.Audit on \/nodes\/\{node\}/m);
    } finally {
      await fake.close();
    }
  });
});
