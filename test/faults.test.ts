// A Proxmox host that misbehaves: every fault gives a clear isError result within the configured
// timeout, and the same server answers the next call normally.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { call, connect, fakeEnv, type CallOutcome, type Connected } from './support/mcp.js';

const REQUEST_TIMEOUT_MS = 1500;
const CALL_TIMEOUT_MS = 4000;
// Generous: the machine is shared; the point is "bounded", not "fast".
const SLACK_MS = 8000;

async function timed(run: () => Promise<CallOutcome>): Promise<CallOutcome & { ms: number }> {
  const started = Date.now();
  const r = await run();
  return { ...r, ms: Date.now() - started };
}

async function stillServes(mcp: Connected): Promise<void> {
  const r = await call(mcp.client, 'get_node_status', { node: 'pve1' });
  expect(r.isError, r.text).toBe(false);
  expect(r.structured?.pveversion).toBeDefined();
}

describe('faults from Proxmox', () => {
  let fake: FakeProxmox;
  let mcp: Connected;

  beforeAll(async () => {
    fake = await startFakeProxmox();
    mcp = await connect(
      fakeEnv(fake, {
        PROXMOX_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        PROXMOX_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
        PROXMOX_MAX_RESPONSE_BYTES: String(256 * 1024),
      }),
    );
  });
  afterEach(async () => {
    fake.clearFaults();
    await stillServes(mcp);
  });
  afterAll(async () => {
    await mcp.close();
    await fake.close();
  });

  it('a host that never answers: a timeout within the request timeout', async () => {
    fake.setFault('/nodes/pve1/status', { kind: 'hang' });
    const r = await timed(() => call(mcp.client, 'get_node_status', { node: 'pve1' }));
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/did not answer within/);
    expect(r.ms).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
  });

  it('a slow host beyond the request timeout: a timeout', async () => {
    fake.setFault('/nodes', { kind: 'slow', ms: 20_000 });
    const r = await timed(() => call(mcp.client, 'get_nodes'));
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/did not answer within/);
    expect(r.ms).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
  });

  it('a slow host within the timeout: an ordinary answer', async () => {
    fake.setFault('/nodes', { kind: 'slow', ms: 300 });
    const r = await call(mcp.client, 'get_nodes');
    expect(r.isError, r.text).toBe(false);
    expect(r.structured?.total).toBe(3);
  });

  it('a connection closed mid-body: says the answer was cut short', async () => {
    fake.setFault('/nodes/pve1/status', { kind: 'close-mid-body' });
    const r = await timed(() => call(mcp.client, 'get_node_status', { node: 'pve1' }));
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/Cannot reach the Proxmox API \(the connection closed before the answer was complete/);
    expect(r.ms).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
  });

  it('invalid JSON: says the answer could not be read', async () => {
    fake.setFault('/cluster/resources', { kind: 'invalid-json' });
    const r = await call(mcp.client, 'get_vms');
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/could not be read \(the answer was not valid JSON\)/);
  });

  it('a gigantic body beyond PROXMOX_MAX_RESPONSE_BYTES: refused, not buffered', async () => {
    fake.setFault('/cluster/resources', { kind: 'huge-body', bytes: 50 * 1024 * 1024 });
    const r = await timed(() => call(mcp.client, 'get_vms'));
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/larger than PROXMOX_MAX_RESPONSE_BYTES/);
    expect(r.ms).toBeLessThan(CALL_TIMEOUT_MS + SLACK_MS);
  });

  it.each([
    [401, /rejected the API token \(401\).*PROXMOX_TOKEN_SECRET/],
    [403, /Permission denied by Proxmox.*PVEAuditor/],
    [500, /Proxmox answered 500/],
    [595, /unreachable.*offline/],
    [502, /Proxmox answered 502/],
  ])('HTTP %i: a clear message', async (status, message) => {
    fake.setFault('/nodes/pve1/status', { kind: 'status', status });
    const r = await call(mcp.client, 'get_node_status', { node: 'pve1' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(message);
  });

  it('a 500 that carries a password or the token header comes back redacted', async () => {
    const body = JSON.stringify({ data: null, message: `backend said password=hunter2 while using PVEAPIToken=${fake.tokenId}=${fake.tokenSecret}\n` });
    fake.setFault('/nodes/pve1/status', { kind: 'status', status: 500, reason: 'Internal error', body });
    const r = await call(mcp.client, 'get_node_status', { node: 'pve1' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/password=\[redacted\]/);
    expect(r.text).not.toContain('hunter2');
    expect(r.text).not.toContain(fake.tokenSecret);
    expect(mcp.stderr()).not.toContain(fake.tokenSecret);
    expect(mcp.stderr()).not.toContain('hunter2');
  });
});

describe('the tool-call timeout bounds a hang even when the request timeout is long', () => {
  it('PROXMOX_CALL_TIMEOUT_MS fires first', async () => {
    const fake = await startFakeProxmox();
    const mcp = await connect(fakeEnv(fake, { PROXMOX_TIMEOUT_MS: '120000', PROXMOX_CALL_TIMEOUT_MS: '1500' }));
    try {
      fake.setFault('/nodes/pve1/status', { kind: 'hang' });
      const r = await timed(() => call(mcp.client, 'get_node_status', { node: 'pve1' }));
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/did not answer within [12] s/);
      expect(r.ms).toBeLessThan(1500 + SLACK_MS);
      // A huge body that trickles in is bounded the same way: the timer covers the body too.
      fake.setFault('/nodes/pve1/status', null);
      fake.setFault('/cluster/resources', { kind: 'huge-body', bytes: 200 * 1024 * 1024 });
      const big = await timed(() => call(mcp.client, 'get_vms'));
      expect(big.isError).toBe(true);
      expect(big.ms).toBeLessThan(1500 + SLACK_MS);
      fake.clearFaults();
      await stillServes(mcp);
    } finally {
      await mcp.close();
      await fake.close();
    }
  });
});

describe('bounds', () => {
  let fake: FakeProxmox;
  beforeAll(async () => {
    fake = await startFakeProxmox({ latencyMs: 50 });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('PROXMOX_RATE_LIMIT: calls beyond it get a clear error', async () => {
    const mcp = await connect(fakeEnv(fake, { PROXMOX_RATE_LIMIT: '3' }));
    try {
      const results: CallOutcome[] = [];
      for (let i = 0; i < 5; i++) results.push(await call(mcp.client, 'get_nodes'));
      expect(results.slice(0, 3).every((r) => !r.isError)).toBe(true);
      const limited = results.slice(3);
      expect(limited.every((r) => r.isError)).toBe(true);
      expect(limited[0]?.text).toMatch(/Too many tool calls \(limit 3 a minute\)/);
    } finally {
      await mcp.close();
    }
  });

  it('PROXMOX_MAX_ARGUMENT_BYTES: schema-valid but oversized arguments get a clear error, nothing is sent', async () => {
    const mcp = await connect(fakeEnv(fake, { PROXMOX_MAX_ARGUMENT_BYTES: '128' }));
    try {
      const before = fake.requests.length;
      const r = await call(mcp.client, 'get_vms', { name: 'x'.repeat(64), tag: 'y'.repeat(64) });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/Arguments are larger than 128 bytes/);
      expect(fake.requests.slice(before).filter((q) => q.path.endsWith('/cluster/resources'))).toHaveLength(0);
      const ok = await call(mcp.client, 'get_vms', { name: 'web' });
      expect(ok.isError, ok.text).toBe(false);
    } finally {
      await mcp.close();
    }
  });

  it('PROXMOX_MAX_CONCURRENCY=2: 20 parallel calls use at most 2 connections', async () => {
    const own = await startFakeProxmox({ latencyMs: 100 });
    const mcp = await connect(fakeEnv(own, { PROXMOX_MAX_CONCURRENCY: '2' }));
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call(mcp.client, i % 2 === 0 ? 'get_nodes' : 'get_node_status', { ...(i % 2 === 0 ? {} : { node: 'pve1' }) })));
      expect(results.every((r) => !r.isError)).toBe(true);
      expect(own.requests.length).toBeGreaterThanOrEqual(20);
      expect(own.connections).toBeGreaterThan(0);
      expect(own.connections).toBeLessThanOrEqual(2);
    } finally {
      await mcp.close();
      await own.close();
    }
  });
});

describe('a call the host cancels', () => {
  let fake: FakeProxmox;
  let mcp: Connected;

  beforeAll(async () => {
    fake = await startFakeProxmox();
    // One connection and long timeouts: a request left running would hold up the next call for 20 s.
    mcp = await connect(fakeEnv(fake, { PROXMOX_MAX_CONCURRENCY: '1', PROXMOX_TIMEOUT_MS: '20000', PROXMOX_CALL_TIMEOUT_MS: '30000' }));
  });
  afterAll(async () => {
    await mcp.close();
    await fake.close();
  });

  it('stops its upstream request, so the next call is not held up', async () => {
    fake.setFault('/nodes', { kind: 'hang' });
    const controller = new AbortController();
    const cancelled = mcp.client.callTool({ name: 'get_nodes', arguments: {} }, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    controller.abort('the user moved on');
    await expect(cancelled).rejects.toThrow();
    fake.clearFaults();
    const next = await timed(() => call(mcp.client, 'get_node_status', { node: 'pve1' }));
    expect(next.isError, next.text).toBe(false);
    expect(next.ms).toBeLessThan(SLACK_MS);
  });
});
