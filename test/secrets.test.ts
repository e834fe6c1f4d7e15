// The token secret never leaves the Authorization header: not on stdout (the raw protocol bytes),
// not on stderr (even at DEBUG), not in any result, on any success or failure path.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditorToken, startFakeProxmox, type FakeProxmox, type Fault } from './fake-proxmox/index.js';
import { CLI, fakeEnv } from './support/mcp.js';

const SECRET = 'Zq9-SECRET-7e1d4c2b-a6f0-4b8e-9d3c-UNIQUE';

interface RawServer {
  request(method: string, params?: unknown): Promise<Record<string, unknown>>;
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

/** Our own child process, so every byte of stdout is seen, not only what the SDK client parses. */
async function startRaw(env: Record<string, string>): Promise<RawServer> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [CLI], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let buffered = '';
  let nextId = 1;
  const waiting = new Map<number, (msg: Record<string, unknown>) => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (typeof msg.id === 'number') waiting.get(msg.id)?.(msg);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const request = (method: string, params?: unknown): Promise<Record<string, unknown>> => {
    const id = nextId++;
    const answer = new Promise<Record<string, unknown>>((resolve) => waiting.set(id, resolve));
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) })}\n`);
    return answer;
  };
  await request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'secrets', version: '1' } });
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  return {
    request,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.stdin.end();
      await exited;
    },
  };
}

const SAMPLE: Record<string, unknown> = { node: 'pve1', vmid: 100, storage: 'local', timeframe: 'hour' };

function argsFor(schema: { properties?: Record<string, unknown>; required?: string[] }): Record<string, unknown> {
  return Object.fromEntries((schema.required ?? []).map((name) => [name, SAMPLE[name] ?? 'pve1']));
}

describe('the token secret stays secret', () => {
  let fake: FakeProxmox;
  beforeAll(async () => {
    fake = await startFakeProxmox({ tokens: [{ ...auditorToken(), secret: SECRET }] });
    expect(fake.tokenSecret).toBe(SECRET);
  });
  afterAll(async () => {
    await fake.close();
  });

  it('every tool and every failure path at DEBUG', async () => {
    const server = await startRaw(fakeEnv(fake, { PROXMOX_LOG_LEVEL: 'DEBUG', PROXMOX_TIMEOUT_MS: '800', PROXMOX_CALL_TIMEOUT_MS: '1500', PROXMOX_MAX_RESPONSE_BYTES: '65536' }));
    const results: string[] = [];
    try {
      const list = await server.request('tools/list');
      const tools = (list.result as { tools: { name: string; inputSchema: { properties?: Record<string, unknown>; required?: string[] } }[] }).tools;
      expect(tools.length).toBeGreaterThan(0);
      const callAll = async (few = false): Promise<void> => {
        for (const tool of few ? tools.slice(0, 3) : tools) {
          const res = await server.request('tools/call', { name: tool.name, arguments: argsFor(tool.inputSchema) });
          results.push(JSON.stringify(res));
        }
      };
      await callAll();
      // Sample arguments do not fit every tool (a disk path, a task id, a container): most must succeed.
      const ok = results.filter((r) => !r.includes('"isError":true')).length;
      expect(ok).toBeGreaterThan(results.length / 2);

      const echo = `the request carried PVEAPIToken=${fake.tokenId}=${SECRET} and secret=${SECRET} password=${SECRET}`;
      const faults: Fault[] = [
        { kind: 'status', status: 401 },
        { kind: 'status', status: 403 },
        { kind: 'status', status: 500, reason: `bad ${SECRET}`, body: JSON.stringify({ data: null, message: echo }) },
        { kind: 'status', status: 400, body: JSON.stringify({ data: null, errors: { node: echo } }) },
        { kind: 'status', status: 595, reason: `No route ${SECRET}` },
        { kind: 'status', status: 200, body: JSON.stringify({ data: [{ node: 'pve1', status: 'online', note: echo }] }) },
        { kind: 'hang' },
        { kind: 'close-mid-body' },
        { kind: 'invalid-json' },
        { kind: 'huge-body', bytes: 1024 * 1024 },
      ];
      for (const fault of faults) {
        fake.setFault(/.*/, fault);
        await callAll(fault.kind === 'hang');
        fake.clearFaults();
      }
      // Arguments that carry the secret are refused, and the refusal does not repeat it back either.
      results.push(JSON.stringify(await server.request('tools/call', { name: 'get_node_status', arguments: { node: SECRET } })));
      results.push(JSON.stringify(await server.request('tools/call', { name: 'nosuch', arguments: {} })));
    } finally {
      await server.stop();
    }
    expect(results.length).toBeGreaterThan(10);
    // The failures really happened, and were logged at DEBUG/WARNING level.
    expect(server.stderr()).toMatch(/upstream 500/);
    expect(server.stdout()).toMatch(/did not answer within/);
    expect(server.stdout()).toMatch(/\[redacted\]/);
    const leaks = server.stdout().split('\n').filter((l) => l.includes(SECRET)).map((l) => l.slice(Math.max(0, l.indexOf(SECRET) - 300), l.indexOf(SECRET) + 60));
    expect(leaks).toEqual([]);
    for (const text of [server.stdout(), server.stderr(), ...results]) expect(text).not.toContain(SECRET);
  }, 120_000);

  it('TLS failures and start-up warnings', async () => {
    const server = await startRaw({
      ...fakeEnv(fake, { PROXMOX_LOG_LEVEL: 'DEBUG', PROXMOX_VERIFY_SSL: 'false' }),
      PROXMOX_TLS_FINGERPRINT: Array.from({ length: 32 }, () => '00').join(':'),
    });
    try {
      const res = JSON.stringify(await server.request('tools/call', { name: 'get_nodes', arguments: {} }));
      expect(res).toMatch(/TLS certificate was not accepted/);
      expect(res).not.toContain(SECRET);
      await new Promise((r) => setTimeout(r, 600));
    } finally {
      await server.stop();
    }
    expect(server.stdout()).not.toContain(SECRET);
    expect(server.stderr()).not.toContain(SECRET);
  });

  it('doctor at DEBUG, with a good and a bad secret', async () => {
    const run = (env: Record<string, string>): Promise<string> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [CLI, 'doctor'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let all = '';
        child.stdout.on('data', (c: Buffer) => (all += c.toString()));
        child.stderr.on('data', (c: Buffer) => (all += c.toString()));
        child.on('exit', () => { resolve(all); });
      });
    const good = await run(fakeEnv(fake, { PROXMOX_LOG_LEVEL: 'DEBUG' }));
    expect(good).toMatch(/verdict: ready/);
    expect(good).not.toContain(SECRET);
    fake.setFault('/version', { kind: 'status', status: 500, body: JSON.stringify({ data: null, message: `echo PVEAPIToken=${fake.tokenId}=${SECRET}` }) });
    try {
      const bad = await run(fakeEnv(fake, { PROXMOX_LOG_LEVEL: 'DEBUG' }));
      expect(bad).toMatch(/FAIL/);
      expect(bad).not.toContain(SECRET);
    } finally {
      fake.clearFaults();
    }
  });
});
