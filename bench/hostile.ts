// Hostile answers and a stalled host, each against a fresh server process: the largest event-loop
// block (the slowest answer to a JSON-RPC ping sent every 10 ms while the call runs: the SDK answers
// pings on the same thread that shapes answers) and the peak RSS of the process.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { FakeProxmox } from '../test/fake-proxmox/index.js';
import { fakeEnv } from '../test/support/mcp.js';
import { RpcProcess, handshake, toolResult } from './lib/rpc-process.js';

export interface HostileFigure {
  name: string;
  bodyBytes: number;
  calls: number;
  /** Slowest call, from sending it to its answer. */
  slowestCallMs: number;
  /** Calls answered (result or error) within the call timeout plus 1 s. */
  answeredInTime: number;
  maxBlockMs: number;
  /** The same measure over a second with no call running: what the machine itself adds. */
  idleBlockMs: number;
  peakRssMiB: number | undefined;
  outcome: string;
}

const CALL_TIMEOUT_MS = 5000;
const PING_EVERY_MS = 10;

interface Scenario {
  name: string;
  tool: string;
  args: Record<string, unknown>;
  calls: number;
  /** Answer served for the scenario's path, or none for the stalled host. */
  body?: { path: string | RegExp; text: string };
  stalled?: boolean;
}

function manyKeyRecord(keys: number): string {
  const result: Record<string, string> = {};
  for (let i = 0; i < keys; i++) result[`k${i}`] = `v${i}`;
  return JSON.stringify({ data: { result } });
}

function bigList(bytes: number, nameLength: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const row = `{"id":"qemu/${i}","type":"qemu","vmid":${i},"node":"pve1","status":"running","name":"${'n'.repeat(nameLength)}${i}"}`;
    parts.push(row);
    size += row.length + 1;
  }
  return `{"data":[${parts.join(',')}]}`;
}

function scenarios(): Scenario[] {
  const mib = 1024 * 1024;
  return [
    { name: '150 KiB record of 10,000 keys (guest agent)', tool: 'get_vm_os_info', args: { node: 'pve1', vmid: 100 }, calls: 1, body: { path: '/nodes/pve1/qemu/100/agent/get-osinfo', text: manyKeyRecord(10_000) } },
    { name: '30 MiB list, 1.4 M values', tool: 'get_vms', args: {}, calls: 1, body: { path: '/cluster/resources', text: bigList(30 * mib, 200) } },
    { name: '30 MiB of tiny values (refused unread)', tool: 'get_vms', args: {}, calls: 1, body: { path: '/cluster/resources', text: `{"data":[${'0,'.repeat(15 * mib)}0]}` } },
    {
      name: '30.5 MiB record of 2 M short strings',
      tool: 'get_vm_config',
      args: { node: 'pve1', vmid: 100 },
      calls: 1,
      body: { path: '/nodes/pve1/qemu/100/config', text: `{"data":{"a":[${`"${'s'.repeat(13)}",`.repeat(1_999_990)}1]}}` },
    },
    { name: 'stalled TLS handshake, 40 concurrent calls', tool: 'get_node_status', args: { node: 'pve1' }, calls: 40, stalled: true },
  ];
}

/** A host that accepts TCP connections and then says nothing, as an overloaded pveproxy may. */
async function stalledHost(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function run(serverPath: string, fake: FakeProxmox, s: Scenario): Promise<HostileFigure> {
  const stall = s.stalled === true ? await stalledHost() : undefined;
  if (s.body !== undefined) fake.setFault(s.body.path, { kind: 'status', status: 200, body: s.body.text });
  const env = fakeEnv(fake, {
    PROXMOX_RATE_LIMIT: '1000000',
    PROXMOX_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
    ...(stall !== undefined ? { PROXMOX_PORT: String(stall.port) } : {}),
  });
  const rpc = new RpcProcess(process.execPath, [serverPath], env);
  try {
    await handshake(rpc);
    await rpc.request('tools/list');
    // A first call loads the tool runtime and opens the connection: not part of what is measured.
    if (s.stalled !== true) await rpc.callTool('get_node_status', { node: 'pve1' });
    const state = { done: false, max: 0 };
    const ping = async (): Promise<void> => {
      while (!state.done) {
        const answer = await rpc.request('ping', undefined, 600_000);
        state.max = Math.max(state.max, answer.ms);
        await new Promise((resolve) => setTimeout(resolve, PING_EVERY_MS));
      }
    };
    const idle = ping();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    state.done = true;
    await idle;
    const idleBlockMs = state.max;
    Object.assign(state, { done: false, max: 0 });
    const pinger = ping();
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: s.calls }, async () => {
        const answer = await rpc.callTool(s.tool, s.args, 600_000);
        return { ms: performance.now() - started, result: toolResult(answer) };
      }),
    );
    state.done = true;
    await pinger;
    const first = answers[0]?.result;
    return {
      name: s.name,
      bodyBytes: s.body?.text.length ?? 0,
      calls: s.calls,
      slowestCallMs: Math.max(...answers.map((a) => a.ms)),
      answeredInTime: answers.filter((a) => a.ms <= CALL_TIMEOUT_MS + 1000).length,
      maxBlockMs: state.max,
      idleBlockMs,
      peakRssMiB: ((): number | undefined => {
        const m = rpc.memory();
        return m === undefined ? undefined : m.peakKiB / 1024;
      })(),
      outcome: first === undefined ? 'no answer' : `${first.isError ? 'error' : 'ok'}: ${first.text.slice(0, 80)}`,
    };
  } finally {
    await rpc.close();
    fake.clearFaults();
    await stall?.close();
  }
}

export async function hostileAnswers(serverPath: string, fake: FakeProxmox, log: (text: string) => void): Promise<HostileFigure[]> {
  const out: HostileFigure[] = [];
  for (const s of scenarios()) {
    log(`  ${s.name}`);
    out.push(await run(serverPath, fake, s));
  }
  return out;
}

export const HOSTILE_CALL_TIMEOUT_MS = CALL_TIMEOUT_MS;
