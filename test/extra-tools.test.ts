// An operator's own tools on top of the built-in ones, without touching the installed package:
// the packed package is installed in an empty folder and a tool is added through
// PROXMOX_MCP_EXTRA_TOOLS. A name already taken replaces that tool and says so on stderr; a tool
// that does not check against the pin stops the server with the file, line and field.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { PassThrough } from 'node:stream';
import { startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { call, fakeEnv } from './support/mcp.js';

const ROOT = new URL('..', import.meta.url).pathname;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const EXTRA = `version: 1
tools:
  - name: get_firewall_aliases
    title: Firewall aliases
    description: "Every cluster firewall alias: name, CIDR and comment."
    toolset: network
    path: /cluster/firewall/aliases
    privilege: Sys.Audit
    output:
      shape: list
      key: name
      omit: [digest]
  - name: get_version
    title: Proxmox VE release
    description: "The release of Proxmox VE on the API host (replaced by the operator)."
    toolset: cluster
    path: /version
`;

const BROKEN = `version: 1
tools:
  - name: get_firewall_aliases
    title: Firewall aliases
    description: "Every cluster firewall alias: name, CIDR and comment."
    toolset: network
    path: /cluster/firewall/aliases
    params:
      bogus: {}
`;

describe('the packed package with PROXMOX_MCP_EXTRA_TOOLS', () => {
  let dir: string;
  let cli: string;
  let fake: FakeProxmox;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pmcp-packed-'));
    // The package as published: npm pack of the built tree, installed into an empty folder.
    execFileSync(NPM, ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) throw new Error('npm pack wrote no tarball');
    const app = join(dir, 'app');
    mkdirSync(app);
    execFileSync(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', join(dir, tarball)], { cwd: app, stdio: ['ignore', 'ignore', 'inherit'] });
    cli = join(app, 'node_modules', 'proxmox-mcp', 'dist', 'cli.js');
    fake = await startFakeProxmox();
  }, 180_000);

  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a tool and replaces one, saying so on stderr', async () => {
    const file = join(dir, 'my-tools.yaml');
    writeFileSync(file, EXTRA);
    const transport = new StdioClientTransport({ command: process.execPath, args: [cli], env: fakeEnv(fake, { PROXMOX_MCP_EXTRA_TOOLS: file }), stderr: 'pipe' });
    let stderr = '';
    (transport.stderr as PassThrough | null)?.on('data', (c: Buffer) => (stderr += c.toString()));
    const client = new Client({ name: 'packed', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      expect(names).toContain('get_firewall_aliases');
      expect(names).toContain('get_nodes');
      expect(names.filter((n) => n === 'get_version')).toHaveLength(1);
      expect(tools.find((t) => t.name === 'get_version')?.description).toMatch(/replaced by the operator/);
      const r = await call(client, 'get_firewall_aliases');
      expect(r.isError).toBe(false);
      expect((r.structured?.items as { name: string }[]).map((i) => i.name)).toEqual(['backup-host', 'office']);
      expect(stderr).toContain(`PROXMOX_MCP_EXTRA_TOOLS: ${file} replaces the built-in tool get_version`);
    } finally {
      await client.close();
    }
  });

  it('refuses a tool that does not check against the pin, naming file, line and field', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, BROKEN);
    const r = spawnSync(process.execPath, [cli], { env: fakeEnv(fake, { PROXMOX_MCP_EXTRA_TOOLS: file }), input: '', encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}:9: tool "get_firewall_aliases": params.bogus: "bogus" is not a query parameter of GET /cluster/firewall/aliases`);
    expect(r.stdout).toBe('');
  });

  it('says which file it cannot read', () => {
    const r = spawnSync(process.execPath, [cli], { env: fakeEnv(fake, { PROXMOX_MCP_EXTRA_TOOLS: join(dir, 'missing.yaml') }), input: '', encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/PROXMOX_MCP_EXTRA_TOOLS: cannot read .*missing\.yaml \(ENOENT\)/);
  });
});
