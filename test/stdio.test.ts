// The server over stdio as a host or a script drives it: every message answered exactly once, in
// whatever batching and line ends a host sends, bad lines refused with a JSON-RPC error while the
// connection stays open, and every answer in flight sent when the host closes stdin.
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { CLI, TOOL_COUNT, fakeEnv } from './support/mcp.js';

interface Answer {
  jsonrpc: string;
  id?: number | string;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

interface Session {
  answers: Answer[];
  code: number | null;
  stdoutLines: string[];
  stderr: string;
}

/**
 * Writes `chunks` to a fresh server (each chunk in one write), waits until `expected` answers
 * arrived (or 15 s), then closes stdin and waits for the exit.
 */
async function session(env: Record<string, string>, chunks: string[], expected: number, gapMs = 0): Promise<Session> {
  const child = spawn(process.execPath, [CLI], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const stdoutLines: string[] = [];
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (let nl = out.indexOf('\n'); nl !== -1; nl = out.indexOf('\n')) {
      stdoutLines.push(out.slice(0, nl));
      out = out.slice(nl + 1);
    }
    if (stdoutLines.length >= expected) resolveAll();
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  for (const chunk of chunks) {
    child.stdin.write(chunk);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  const timer = setTimeout(resolveAll, 15_000);
  await all;
  clearTimeout(timer);
  // Late duplicates would arrive right after the expected answers.
  await new Promise((r) => setTimeout(r, 300));
  child.stdin.end();
  const code = await exited;
  return { answers: stdoutLines.map((l) => JSON.parse(l) as Answer), code, stdoutLines, stderr };
}

const line = (msg: object): string => `${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`;
const initialize = (id: number | string, protocolVersion: string): string =>
  line({ id, method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo: { name: 'test', version: '1' } } });
const initialized = line({ method: 'notifications/initialized' });
const toolsList = (id: number | string): string => line({ id, method: 'tools/list' });

let fake: FakeProxmox;
let env: Record<string, string>;
beforeAll(async () => {
  fake = await startFakeProxmox();
  env = fakeEnv(fake);
});
afterAll(async () => {
  await fake.close();
});

describe('stdio', () => {
  it('answers everything sent in one write once', async () => {
    const all = initialize('a', '2025-06-18') + initialized + toolsList('b') + line({ id: 'c', method: 'ping' }) + line({ id: 'd', method: 'tools/call', params: { name: 'get_nodes', arguments: {} } });
    const s = await session(env, [all], 4);
    expect(s.answers.map((a) => a.id).sort()).toEqual(['a', 'b', 'c', 'd']);
    const nodes = s.answers.find((a) => a.id === 'd')?.result as { isError?: boolean; structuredContent?: { items: unknown[] } };
    expect(nodes.isError).toBeUndefined();
    expect(nodes.structuredContent?.items.length).toBeGreaterThan(0);
  });

  it.each([...SUPPORTED_PROTOCOL_VERSIONS, '1999-01-01'])('negotiates %s and lists the same tools, without listChanged', async (version) => {
    const s = await session(env, [initialize(1, version), initialized, toolsList(2)], 2);
    expect(s.answers.map((a) => a.id)).toEqual([1, 2]);
    const init = s.answers[0]?.result as { protocolVersion: string; capabilities: { tools?: { listChanged?: boolean } } };
    expect(init.protocolVersion).toBe(SUPPORTED_PROTOCOL_VERSIONS.includes(version) ? version : SUPPORTED_PROTOCOL_VERSIONS[0]);
    expect(init.capabilities.tools?.listChanged).toBe(false);
    expect((s.answers[1]?.result?.tools as unknown[]).length).toBe(TOOL_COUNT);
  });

  it('answers an initialize the SDK refuses with an error', async () => {
    const s = await session(env, [line({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18' } })], 1);
    expect(s.answers).toHaveLength(1);
    expect(s.answers[0]?.id).toBe(1);
    expect(s.answers[0]?.error?.message).toMatch(/clientInfo/);
  });

  it('reads messages split across writes, with CRLF line ends', async () => {
    const text = (initialize(7, '2025-11-25') + initialized + toolsList(8)).replace(/\n/g, '\r\n');
    const s = await session(env, [text.slice(0, 50), text.slice(50, 170), text.slice(170)], 2, 15);
    expect(s.answers.map((a) => a.id)).toEqual([7, 8]);
  });

  it('refuses a line over 10 MiB with a JSON-RPC error, and keeps serving', async () => {
    const junk = `{"jsonrpc":"2.0","id":5,"method":"ping","params":{"x":"${'x'.repeat(11 * 1024 * 1024)}"}}\n`;
    const half = Math.floor(junk.length / 2);
    const before = initialize(1, '2025-06-18') + initialized + line({ id: 2, method: 'tools/call', params: { name: 'get_nodes', arguments: {} } });
    const s = await session(env, [before, junk.slice(0, half), junk.slice(half), toolsList(3)], 4, 20);
    expect(s.code).toBe(0);
    const refused = s.answers.find((a) => a.error !== undefined);
    expect(refused?.id).toBeNull();
    expect(refused?.error?.code).toBe(-32600);
    expect(refused?.error?.message).toMatch(/longer than 10 MiB/);
    expect(s.answers.filter((a) => a.error === undefined).map((a) => a.id).sort()).toEqual([1, 2, 3]);
    expect(s.stderr).toMatch(/refused a message longer than 10 MiB/);
  });

  it('refuses a JSON-RPC batch with an error for each request in it, and keeps serving', async () => {
    const batch = `${JSON.stringify([
      { jsonrpc: '2.0', id: 10, method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 'eleven', method: 'tools/list' },
    ])}\n`;
    const s = await session(env, [initialize(1, '2025-03-26') + initialized, batch, toolsList(2)], 3, 20);
    const batchAnswer = JSON.parse(s.stdoutLines.find((l) => l.startsWith('[')) ?? '[]') as Answer[];
    expect(batchAnswer.map((a) => a.id)).toEqual([10, 'eleven']);
    for (const a of batchAnswer) expect(a.error?.message).toMatch(/batches are not supported/);
    expect(s.stdoutLines.filter((l) => !l.startsWith('[')).map((l) => (JSON.parse(l) as Answer).id)).toEqual([1, 2]);
  });

  it('answers a line that is not JSON with a parse error, and keeps serving', async () => {
    const s = await session(env, [initialize(1, '2025-06-18') + initialized, 'not json\n', toolsList(2)], 3, 20);
    expect(s.answers.find((a) => a.error !== undefined)).toMatchObject({ id: null, error: { code: -32700 } });
    expect(s.answers.filter((a) => a.error === undefined).map((a) => a.id)).toEqual([1, 2]);
  });

  it('exits cleanly when the host closes stdin right after tools/list', async () => {
    const child = spawn(process.execPath, [CLI], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.stdin.end(initialize(1, '2025-06-18') + initialized + toolsList(2));
    expect(await exited).toBe(0);
    expect(out.trim().split('\n').map((l) => (JSON.parse(l) as Answer).id)).toEqual([1, 2]);
  });
});

/** Writes `input` and closes stdin at once, as a script piping requests does; returns what came back. */
async function pipeThrough(env: Record<string, string>, input: string): Promise<{ answers: Answer[]; code: number | null; ms: number; stderr: string }> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.stdin.end(input);
  const code = await exited;
  const answers = out.trim() === '' ? [] : out.trim().split('\n').map((l) => JSON.parse(l) as Answer);
  return { answers, code, ms: Date.now() - started, stderr: err };
}

describe('end of input', () => {
  const calls = initialize(1, '2025-06-18') + initialized + line({ id: 2, method: 'tools/call', params: { name: 'get_nodes', arguments: {} } }) + line({ id: 3, method: 'tools/call', params: { name: 'get_node_status', arguments: { node: 'pve3' } } });

  it('a script that pipes requests and closes stdin gets every answer', async () => {
    const r = await pipeThrough(env, calls);
    expect(r.code).toBe(0);
    expect(r.answers.map((a) => a.id).sort()).toEqual([1, 2, 3]);
    const nodes = r.answers.find((a) => a.id === 2)?.result as { structuredContent?: { items: unknown[] } };
    expect(nodes.structuredContent?.items.length).toBeGreaterThan(0);
    const offline = r.answers.find((a) => a.id === 3)?.result as { isError?: boolean };
    expect(offline.isError).toBe(true);
  });

  it('says nothing of the token when input ends before its privilege check is answered', async () => {
    // The call outlasts the moment the check starts (300 ms after start-up), and input ends while
    // the check is still waiting for its answer.
    fake.setFault('/access/permissions', { kind: 'slow', ms: 3000 });
    fake.setFault('/nodes', { kind: 'slow', ms: 700 });
    try {
      const call = line({ id: 3, method: 'tools/call', params: { name: 'get_nodes', arguments: {} } });
      const r = await pipeThrough({ ...env, PROXMOX_LOG_LEVEL: 'DEBUG' }, initialize(1, '2025-06-18') + initialized + toolsList(2) + call);
      expect(r.code).toBe(0);
      expect(r.answers.map((a) => a.id).sort()).toEqual([1, 2, 3]);
      expect(r.ms).toBeLessThan(2500);
      expect(r.stderr).toMatch(/serving \d+ read-only tools/);
      expect(r.stderr).not.toMatch(/token|WARNING/i);
    } finally {
      fake.clearFaults();
    }
  });

  it('does not wait for a request the host cancelled', async () => {
    fake.setFault('/nodes', { kind: 'hang' });
    try {
      const input =
        initialize(1, '2025-06-18') +
        initialized +
        line({ id: 2, method: 'tools/call', params: { name: 'get_nodes', arguments: {} } }) +
        line({ method: 'notifications/cancelled', params: { requestId: 2, reason: 'user' } });
      const r = await pipeThrough({ ...env, PROXMOX_CALL_TIMEOUT_MS: '20000' }, input);
      expect(r.code).toBe(0);
      expect(r.answers.map((a) => a.id)).toEqual([1]);
      expect(r.ms).toBeLessThan(10_000);
    } finally {
      fake.setFault('/nodes', null);
    }
  });

  it('on SIGTERM stops at once, even with requests to a hung host still running', async () => {
    // The start-up privilege check is not a tool call: nothing but stopping the connections ends it.
    fake.setFault('/access/permissions', { kind: 'hang' });
    fake.setFault('/nodes', { kind: 'hang' });
    try {
      const child = spawn(process.execPath, [CLI], { env: { ...env, PROXMOX_TIMEOUT_MS: '20000', PROXMOX_CALL_TIMEOUT_MS: '30000' }, stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdout.resume();
      child.stderr.resume();
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.stdin.write(initialize(1, '2025-06-18') + initialized + line({ id: 2, method: 'tools/call', params: { name: 'get_nodes', arguments: {} } }));
      await new Promise((r) => setTimeout(r, 1000));
      const started = Date.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      fake.clearFaults();
    }
  });

  it('waits for a slow answer no longer than the call timeout, then exits', async () => {
    fake.setFault('/nodes', { kind: 'hang' });
    try {
      const r = await pipeThrough({ ...env, PROXMOX_CALL_TIMEOUT_MS: '1500' }, initialize(1, '2025-06-18') + initialized + line({ id: 2, method: 'tools/call', params: { name: 'get_nodes', arguments: {} } }));
      expect(r.code).toBe(0);
      const answer = r.answers.find((a) => a.id === 2)?.result as { isError?: boolean; content: { text: string }[] };
      expect(answer.isError).toBe(true);
      expect(answer.content[0]?.text).toMatch(/did not answer within/);
      expect(r.ms).toBeLessThan(10_000);
    } finally {
      fake.setFault('/nodes', null);
    }
  });
});
