// A user's own manifest (PROXMOX_MCP_TOOLS) against the built-in one: spawn -> initialize ->
// tools/list answered, and the first tool call, for each, alternating. The custom manifest is the
// project's own tools.yaml, so both list the same tools and only the compile at start-up differs.
// Run with `npm run bench:manifest` (after `npm run build`).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { makeCluster, startFakeProxmox } from '../test/fake-proxmox/index.js';
import { fakeEnv } from '../test/support/mcp.js';
import { RpcProcess, handshake, toolResult } from './lib/rpc-process.js';
import { median, round } from './lib/stats.js';

const SERVER = process.env.BENCH_SERVER ?? fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const TOOLS = fileURLToPath(new URL('../tools.yaml', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const WARMUP = 2;
const TARGET = 1.3;

type Subject = 'built-in' | 'custom';

/** CPU time the process has used so far (Linux), in ms: steadier than wall time on a busy machine. */
function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}
const SUBJECTS: readonly Subject[] = ['built-in', 'custom'];

async function main(): Promise<void> {
  const fake = await startFakeProxmox({ cluster: makeCluster() });
  const list: Record<Subject, number[]> = { 'built-in': [], custom: [] };
  const call: Record<Subject, number[]> = { 'built-in': [], custom: [] };
  const cpu: Record<Subject, number[]> = { 'built-in': [], custom: [] };
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const order = i % 2 === 0 ? SUBJECTS : [...SUBJECTS].reverse();
      for (const subject of order) {
        const env = fakeEnv(fake, subject === 'custom' ? { PROXMOX_MCP_TOOLS: TOOLS } : {});
        const started = performance.now();
        const rpc = new RpcProcess(process.execPath, [SERVER], env);
        try {
          await handshake(rpc);
          const answer = await rpc.request('tools/list');
          if (answer.message.error !== undefined) throw new Error(`${subject}: tools/list failed: ${answer.message.error.message}`);
          const listed = performance.now() - started;
          const used = cpuMs(rpc.pid);
          const result = toolResult(await rpc.callTool('get_node_status', { node: 'pve1' }));
          if (result.isError) throw new Error(`${subject}: first call failed: ${result.text}`);
          if (i >= WARMUP) {
            list[subject].push(listed);
            if (used !== undefined) cpu[subject].push(used);
            call[subject].push(performance.now() - started);
          }
        } finally {
          await rpc.close();
        }
      }
    }
  } finally {
    await fake.close();
  }
  const ratio = median(list.custom) / median(list['built-in']);
  const cpuRatio = median(cpu.custom) / median(cpu['built-in']);
  const rows = [
    ['spawn -> tools/list, built-in manifest', `${round(median(list['built-in']))} ms`],
    ['spawn -> tools/list, PROXMOX_MCP_TOOLS=tools.yaml', `${round(median(list.custom))} ms`],
    ['spawn -> first tool answer, built-in manifest', `${round(median(call['built-in']))} ms`],
    ['spawn -> first tool answer, PROXMOX_MCP_TOOLS=tools.yaml', `${round(median(call.custom))} ms`],
    ['CPU until tools/list, built-in manifest', cpu['built-in'].length > 0 ? `${round(median(cpu['built-in']))} ms` : 'n/a'],
    ['CPU until tools/list, PROXMOX_MCP_TOOLS=tools.yaml', cpu.custom.length > 0 ? `${round(median(cpu.custom))} ms` : 'n/a'],
    [`custom / built-in (tools/list, target <= ${TARGET}x)`, `${ratio.toFixed(2)}x ${ratio <= TARGET ? 'PASS' : 'MISS'}`],
    ['custom / built-in (CPU until tools/list)', Number.isNaN(cpuRatio) ? 'n/a' : `${cpuRatio.toFixed(2)}x`],
  ];
  const width = Math.max(...rows.map(([k]) => (k ?? '').length));
  process.stdout.write(`medians of ${RUNS} runs each\n${rows.map(([k, v]) => `${(k ?? '').padEnd(width)}  ${v ?? ''}`).join('\n')}\n`);
}

await main();
