// `proxmox-mcp http`, built, against the fake Proxmox: the client matrix (SDK v1; SDK v2 legacy,
// auto and pinned 2026-07-28), authentication, DNS-rebinding protection, the bounds, health, the
// refusal to serve a network without a token, and a graceful stop.
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeToken, PVE_AUDITOR, startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { CLI, fakeEnv } from './support/mcp.js';
import { callBody, JSON_HEADERS, message, raw, startHttp, type HttpServer } from './support/http.js';

const TOKEN = 'test-token-0123456789abcdef';
const OTHER_TOKEN = 'second-token-fedcba9876543210';

let fake: FakeProxmox;
let server: HttpServer;

beforeAll(async () => {
  fake = await startFakeProxmox();
  server = await startHttp(fakeEnv(fake, { PROXMOX_MCP_HTTP_TOKENS: `${TOKEN}, ${OTHER_TOKEN}`, PROXMOX_MCP_HTTP_MAX_BODY_BYTES: '65536' }));
});

afterAll(async () => {
  await server.stop();
  await fake.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };

interface Listed {
  tools: { name: string }[];
}
interface Called {
  isError?: boolean;
  structuredContent?: { items?: { vmid?: number }[]; total?: number };
}

describe('client matrix over HTTP', () => {
  const v2Modes = [
    ['legacy', 'legacy', '2025-11-25'],
    ['auto', 'auto', '2026-07-28'],
    ['pinned 2026-07-28', { pin: '2026-07-28' }, '2026-07-28'],
  ] as const;

  it.each(v2Modes)('SDK v2 client, %s: lists the tools and calls get_vms', async (_label, mode, version) => {
    const client = new Client({ name: 'matrix', version: '1.0.0' }, { versionNegotiation: { mode } });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: auth } }));
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe(version);
      const listed = (await client.listTools()) as Listed;
      expect(listed.tools.map((t) => t.name)).toContain('get_vms');
      const called = (await client.callTool({ name: 'get_vms', arguments: {} })) as Called;
      expect(called.isError).not.toBe(true);
      expect(called.structuredContent?.items?.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('SDK v1 client (what most hosts ship): lists the tools and calls get_vms', async () => {
    const client = new ClientV1({ name: 'matrix-v1', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(server.url), { requestInit: { headers: auth } }));
    try {
      const listed = (await client.listTools()) as Listed;
      expect(listed.tools.map((t) => t.name)).toContain('get_vms');
      const called = (await client.callTool({ name: 'get_vms', arguments: {} })) as Called;
      expect(called.isError).not.toBe(true);
      expect(called.structuredContent?.items?.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('an SDK client without the token is refused', async () => {
    const client = new Client({ name: 'matrix', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(server.url)))).rejects.toThrow();
  });
});

describe('authentication and DNS-rebinding protection', () => {
  it('answers 401 with a Bearer challenge without a token, and with a wrong one', async () => {
    for (const headers of [JSON_HEADERS, { ...JSON_HEADERS, authorization: 'Bearer not-a-token-we-know-of' }, { ...JSON_HEADERS, authorization: TOKEN }]) {
      const res = await raw(server.url, { headers, body: callBody('get_nodes') });
      expect(res.status).toBe(401);
      expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer /);
      expect(res.body).not.toContain('PROXMOX');
      expect(fake.requests.some((r) => r.path.endsWith('/nodes') && r.status === 0)).toBe(false);
    }
  });

  it('accepts every configured token', async () => {
    for (const token of [TOKEN, OTHER_TOKEN]) {
      const res = await raw(server.url, { headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` }, body: callBody('get_nodes') });
      expect(res.status).toBe(200);
      expect(message(res.body).result?.isError).not.toBe(true);
    }
  });

  it('answers 403 to a foreign Origin and to a foreign Host, before checking the token', async () => {
    const origin = await raw(server.url, { headers: { ...JSON_HEADERS, ...auth, origin: 'https://evil.example' }, body: callBody('get_nodes') });
    expect(origin.status).toBe(403);
    expect(message(origin.body).error?.message).toMatch(/Origin/);
    const host = await raw(server.url, { headers: { ...JSON_HEADERS, ...auth, host: 'evil.example:8080' }, body: callBody('get_nodes') });
    expect(host.status).toBe(403);
    expect(message(host.body).error?.message).toMatch(/Host/);
    const local = await raw(server.url, { headers: { ...JSON_HEADERS, ...auth, origin: 'http://localhost:3000' }, body: callBody('get_nodes') });
    expect(local.status).toBe(200);
  });

  it('answers 413 with a JSON-RPC error to a body over the bound, whether declared or streamed', async () => {
    const big = callBody('get_nodes', { node: 'x'.repeat(70_000) });
    const declared = await raw(server.url, { headers: { ...JSON_HEADERS, ...auth, 'content-length': String(Buffer.byteLength(big)) }, body: big });
    expect(declared.status).toBe(413);
    expect(message(declared.body).error?.message).toMatch(/larger than 65536 bytes/);
    const streamed = await raw(server.url, { headers: { ...JSON_HEADERS, ...auth, 'transfer-encoding': 'chunked' }, body: big });
    expect(streamed.status).toBe(413);
  });

  it('serves /healthz and /readyz without a token, and nothing else', async () => {
    const base = server.url.replace(/\/mcp$/, '');
    expect((await raw(`${base}/healthz`, { method: 'GET' })).status).toBe(200);
    const ready = await raw(`${base}/readyz`, { method: 'GET' });
    expect(ready.status).toBe(200);
    expect(ready.body).toBe('{"status":"ready"}');
    expect((await raw(`${base}/other`, { method: 'GET', headers: auth })).status).toBe(404);
  });

  it('writes one access-log line per request, never a token', async () => {
    await raw(server.url, { headers: { ...JSON_HEADERS, ...auth }, body: callBody('get_vms') });
    const log = server.stderr();
    expect(log).toMatch(/http 127\.0\.0\.1 token 1 POST \/mcp tools\/call get_vms 200 \d+(\.\d+)?ms/);
    expect(log).toMatch(/POST \/mcp - - 401 /);
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain(OTHER_TOKEN);
    expect(log).not.toContain(fake.tokenSecret);
  });
});

describe('bounds', () => {
  it('answers 429 past the per-client rate and 503 past the requests in flight, each with a JSON-RPC error', async () => {
    const bounded = await startHttp(fakeEnv(fake, { PROXMOX_MCP_HTTP_RATE_LIMIT: '3', PROXMOX_MCP_HTTP_MAX_IN_FLIGHT: '1' }));
    try {
      fake.setFault('/nodes', { kind: 'slow', ms: 800 });
      const slow = raw(bounded.url, { headers: JSON_HEADERS, body: callBody('get_nodes') });
      await new Promise((r) => setTimeout(r, 200));
      const busy = await raw(bounded.url, { headers: JSON_HEADERS, body: callBody('get_nodes', {}, 2) });
      expect(busy.status).toBe(503);
      expect(message(busy.body).error?.message).toMatch(/in flight/);
      expect((await slow).status).toBe(200);
      fake.clearFaults();
      const limited = await raw(bounded.url, { headers: JSON_HEADERS, body: callBody('get_nodes', {}, 3) });
      expect(limited.status).toBe(200);
      const over = await raw(bounded.url, { headers: JSON_HEADERS, body: callBody('get_nodes', {}, 4) });
      expect(over.status).toBe(429);
      expect(over.headers['retry-after']).toBeDefined();
      expect(message(over.body).error?.message).toMatch(/Too many requests/);
    } finally {
      fake.clearFaults();
      await bounded.stop();
    }
  });

  it('answers 504 with a JSON-RPC error when a request outlives its deadline', async () => {
    const bounded = await startHttp(fakeEnv(fake, { PROXMOX_MCP_HTTP_REQUEST_TIMEOUT_MS: '1000', PROXMOX_CALL_TIMEOUT_MS: '10000' }));
    try {
      fake.setFault('/nodes', { kind: 'slow', ms: 3000 });
      const res = await raw(bounded.url, { headers: JSON_HEADERS, body: callBody('get_nodes') });
      expect(res.status).toBe(504);
      expect(message(res.body).error?.message).toMatch(/timed out/);
    } finally {
      fake.clearFaults();
      await bounded.stop();
    }
  });
});

describe('start and stop', () => {
  it('refuses a non-loopback address without a token: non-zero exit, one clear line', () => {
    const r = spawnSync(process.execPath, [CLI, 'http'], { env: fakeEnv(fake, { PROXMOX_MCP_HTTP_LISTEN: '0.0.0.0:0' }), encoding: 'utf8', timeout: 20_000 });
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^proxmox-mcp: refusing to listen on 0\.0\.0\.0:0 without a bearer token\. Set PROXMOX_MCP_HTTP_TOKENS/);
  });

  it('refuses a token too short to be one, without echoing it', () => {
    const r = spawnSync(process.execPath, [CLI, 'http'], { env: fakeEnv(fake, { PROXMOX_MCP_HTTP_TOKENS: 'short-secret' }), encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bearer token 1 must be at least 16/);
    expect(r.stderr).not.toContain('short-secret');
  });

  it('PROXMOX_REQUIRE_READONLY_TOKEN=true: a token that can do more than look stops the server before it listens', async () => {
    const wide = await startFakeProxmox({ tokens: [makeToken('ops@pve!wide', { '/': { ...PVE_AUDITOR, 'VM.PowerMgmt': 1 } })] });
    try {
      // Not spawnSync: the fake answers from this process.
      const child = spawn(process.execPath, [CLI, 'http'], { env: fakeEnv(wide, { PROXMOX_REQUIRE_READONLY_TOKEN: 'true', PROXMOX_MCP_HTTP_LISTEN: '127.0.0.1:0' }), stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      const r = { status, stderr };
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/refusing to start \(PROXMOX_REQUIRE_READONLY_TOKEN=true\): the token ops@pve!wide holds privileges beyond read-only auditing: \/: VM\.PowerMgmt/);
      expect(r.stderr).not.toMatch(/serving/);
    } finally {
      await wide.close();
    }
  });

  it('on SIGTERM while start-up still reads the token privileges, exits 0 without waiting for them', async () => {
    fake.setFault('/access/permissions', { kind: 'hang' });
    try {
      // The strict setting makes start-up wait for the privileges for the whole request timeout.
      const child = spawn(process.execPath, [CLI, 'http'], {
        env: fakeEnv(fake, { PROXMOX_REQUIRE_READONLY_TOKEN: 'true', PROXMOX_TIMEOUT_MS: '60000', PROXMOX_MCP_HTTP_LISTEN: '127.0.0.1:0' }),
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => {
        resolve({ code, signal });
      }));
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      fake.clearFaults();
    }
  });

  it('on SIGTERM finishes the call in flight, refuses new ones, and exits 0', async () => {
    const own = await startHttp(fakeEnv(fake));
    try {
      fake.setFault('/cluster/resources', { kind: 'slow', ms: 1500 });
      const inFlight = raw(own.url, { headers: JSON_HEADERS, body: callBody('get_vms') });
      await new Promise((r) => setTimeout(r, 400));
      own.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      // A new request is refused: no connection once the listener has closed, or, if it got in
      // before the signal was handled, a 503 saying why.
      const late = await raw(own.url, { headers: JSON_HEADERS, body: callBody('get_nodes') }).then(
        (res) => `${String(res.status)} ${message(res.body).error?.message ?? ''}`,
        (error: unknown) => (error as NodeJS.ErrnoException).code ?? 'error',
      );
      expect(late).toMatch(/^(ECONNREFUSED|503 Server is shutting down)/);
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      const result = message(answer.body).result as Called;
      expect(result.isError).not.toBe(true);
      expect(result.structuredContent?.items?.length).toBeGreaterThan(0);
      expect(await own.exited).toBe(0);
      expect(own.stderr()).toMatch(/SIGTERM: no new requests; finishing 1 in flight/);
    } finally {
      fake.clearFaults();
      await own.stop();
    }
  });
});
