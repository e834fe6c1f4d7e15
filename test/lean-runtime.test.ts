// The server sends with the undici it bundles and never loads Node's built-in fetch (a second copy
// of undici: about 8.5 MB and 20 ms) nor its HTTP/2 module, on success and failure paths alike.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCluster, startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { CLI, fakeEnv } from './support/mcp.js';

const PRELOAD = fileURLToPath(new URL('./fixtures/preload/report-builtins.cjs', import.meta.url));
const line = (msg: object): string => `${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`;

let fake: FakeProxmox;
beforeAll(async () => {
  fake = await startFakeProxmox({ cluster: makeCluster() });
});
afterAll(async () => {
  await fake.close();
});

async function run(extra: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const child = spawn(process.execPath, ['-r', PRELOAD, CLI], { env: fakeEnv(fake, extra), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const call = (id: number, name: string, args: object): string => line({ id, method: 'tools/call', params: { name, arguments: args } });
  child.stdin.end(
    line({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } } }) +
      line({ method: 'notifications/initialized' }) +
      line({ id: 2, method: 'tools/list' }) +
      call(3, 'get_node_status', { node: 'pve1' }) +
      call(4, 'get_node_status', { node: 'pve3' }) +
      call(5, 'get_vm_status', { node: 'pve1', vmid: 999_999 }) +
      call(6, 'get_vms', { limit: 2, offset: 2 }),
  );
  const code = await exited;
  return { stdout, stderr, code };
}

describe('a lean runtime', () => {
  it('never loads Node built-in fetch nor HTTP/2', async () => {
    const r = await run({});
    expect(r.code).toBe(0);
    const answers = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; result?: { isError?: boolean } });
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(answers.find((a) => a.id === 3)?.result?.isError).not.toBe(true);
    expect(answers.find((a) => a.id === 4)?.result?.isError).toBe(true);
    expect(answers.find((a) => a.id === 5)?.result?.isError).toBe(true);
    expect(r.stderr).toMatch(/builtin-fetch-loaded=false http2-loaded=false/);
  });
});
