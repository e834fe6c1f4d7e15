// The generic reader of the `api` toolset: any harmless GET of the pin, matched to its template and
// checked against its rules before anything is sent; the deny-list holds whatever the path.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiCatalogue } from '../src/tools/api-reader.js';
import { DEFAULT_API } from '../src/proxmox/api/index.js';
import { call } from './support/mcp.js';
import { serverSuite } from './support/suite.js';

const spec = JSON.parse(readFileSync('spec/proxmox-ve.openapi.json', 'utf8')) as { paths: Record<string, object> };
const templates = Object.keys(spec.paths).map((t) => new RegExp(`^/api2/json${t.replace(/\{[^}]+\}/g, '[^/]+')}$`));

describe('the API catalogue', () => {
  const api = new ApiCatalogue(spec, DEFAULT_API);

  it('matches a concrete path to its template, literal segments first', () => {
    expect(api.match('/cluster/firewall/aliases')?.endpoint.template).toBe('/cluster/firewall/aliases');
    const guest = api.match('/nodes/pve1/qemu/100/config');
    expect(guest?.endpoint.template).toBe('/nodes/{node}/qemu/{vmid}/config');
    expect(guest?.values).toEqual({ node: 'pve1', vmid: '100' });
    expect(api.match('/nodes/pve1/nothing-here')).toBeUndefined();
  });

  it('leaves deny-listed endpoints out and finds endpoints by words in their path', () => {
    expect(api.endpoints.map((e) => e.template)).not.toContain('/nodes/{node}/subscription');
    expect(api.endpoints.length).toBeGreaterThan(250);
    expect(api.find('firewall alias').map((e) => e.template)).toContain('/cluster/firewall/aliases');
    expect(api.find('FIREWALL  aliases').every((e) => e.template.includes('firewall') && e.template.includes('aliases'))).toBe(true);
  });
});

describe('api_get and api_find over stdio (PROXMOX_MCP_TOOLSETS=guests,api)', () => {
  const suite = serverSuite({}, { PROXMOX_MCP_TOOLSETS: 'guests,api' });
  const sent = (): number => suite.fake.requests.length;

  it('lists the generic tools only when asked for', async () => {
    const { tools } = await suite.mcp.client.listTools();
    expect(tools.map((t) => t.name)).toContain('api_get');
    expect(tools.map((t) => t.name)).toContain('api_find');
    for (const t of tools.filter((x) => x.name.startsWith('api_'))) expect(t.annotations).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
  });

  it('answers an endpoint no curated tool covers, sanitised and paged', async () => {
    const r = await call(suite.mcp.client, 'api_get', { path: '/cluster/firewall/aliases', limit: 1 });
    expect(r.isError).toBe(false);
    expect(r.structured).toMatchObject({ total: 2, offset: 0, limit: 1, next_offset: 1 });
    expect((r.structured?.items as { name: string }[])[0]?.name).toBe('office');
    const rest = await call(suite.mcp.client, 'api_get', { path: '/cluster/firewall/aliases', offset: 1 });
    const item = (rest.structured?.items as { name: string; comment: string }[])[0];
    expect(item?.name).toBe('backup-host');
    expect(item?.comment).toMatch(/^PBS /);
    expect(item?.comment).not.toMatch(/[\u202a-\u202e]/);
  });

  it('types path values as the pin does and reads a record', async () => {
    const r = await call(suite.mcp.client, 'api_get', { path: '/nodes/pve1/qemu/100/status/current' });
    expect(r.isError).toBe(false);
    expect(r.structured?.vmid).toBe(100);
  });

  it('refuses a deny-listed endpoint, sending nothing', async () => {
    const before = sent();
    for (const path of ['/nodes/pve1/subscription', '/cluster/acme/plugins', '/nodes/pve1/qemu/100/agent/file-read', '/nodes/pve1/../access/ticket']) {
      const r = await call(suite.mcp.client, 'api_get', { path });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/deny-list|not a plain API path/);
      expect(r.text).toMatch(/Nothing was sent/);
    }
    expect(sent()).toBe(before);
  });

  it('refuses unknown paths and bad parameters before sending anything', async () => {
    const before = sent();
    const unknown = await call(suite.mcp.client, 'api_get', { path: '/cluster/nowhere' });
    expect(unknown.text).toMatch(/not an endpoint of the pinned Proxmox VE API. Find one with api_find/);
    const bogus = await call(suite.mcp.client, 'api_get', { path: '/nodes/pve1/tasks', params: { bogus: 1 } });
    expect(bogus.text).toMatch(/Invalid parameters for GET \/nodes\/\{node\}\/tasks: unknown parameter "bogus"; GET \/nodes\/\{node\}\/tasks takes [^.]*errors/);
    const wrongType = await call(suite.mcp.client, 'api_get', { path: '/nodes/pve1/tasks', params: { limit: 'many' } });
    expect(wrongType.text).toMatch(/"limit" must be integer/);
    const badNode = await call(suite.mcp.client, 'api_get', { path: '/nodes/pve_1!/status' });
    expect(badNode.text).toMatch(/"node" has characters or a form that is not allowed/);
    const badId = await call(suite.mcp.client, 'api_get', { path: '/nodes/pve1/qemu/abc/config' });
    expect(badId.isError).toBe(true);
    const ownPaging = await call(suite.mcp.client, 'api_get', { path: '/nodes/pve1/tasks', limit: 5 });
    expect(ownPaging.text).toMatch(/pages itself: pass its own parameters in params/);
    expect(sent()).toBe(before);
  });

  it('finds endpoints by words in their path', async () => {
    const r = await call(suite.mcp.client, 'api_find', { words: 'firewall aliases' });
    expect(r.isError).toBe(false);
    const paths = (r.structured?.items as { path: string }[]).map((i) => i.path);
    expect(paths).toContain('/cluster/firewall/aliases');
    expect(paths.every((p) => p.includes('firewall') && p.includes('aliases'))).toBe(true);
  });

  it('sent only GETs to templates of the pin', () => {
    expect(suite.fake.requests.length).toBeGreaterThan(0);
    for (const r of suite.fake.requests) {
      expect(r.method).toBe('GET');
      expect(templates.some((t) => t.test(r.path))).toBe(true);
    }
  });
});
