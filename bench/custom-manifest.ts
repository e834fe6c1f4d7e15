// A user's own manifest (PROXMOX_MCP_TOOLS) against the built-in one: spawn -> initialize ->
// tools/list answered, and the first tool call, for each, alternating. The custom manifest is the
// project's own tools.yaml, so both list the same tools and only the compile at start-up differs.
// Run with `npm run bench:manifest` (after `npm run build`).
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { makeCluster, startFakeProxmox } from '../test/fake-proxmox/index.js';
import { fakeEnv } from '../test/support/mcp.js';
import { RpcProcess, handshake, toolResult } from './lib/rpc-process.js';
import { median, round } from './lib/stats.js';

const SERVER = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const TOOLS = fileURLToPath(new URL('../tools.yaml', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const WARMUP = 2;
const TARGET = 1.3;

type Subject = 'built-in' | 'custom';
const SUBJECTS: readonly Subject[] = ['built-in', 'custom'];

async function main(): Promise<void> {
  const fake = await startFakeProxmox({ cluster: makeCluster() });
  const list: Record<Subject, number[]> = { 'built-in': [], custom: [] };
  const call: Record<Subject, number[]> = { 'built-in': [], custom: [] };
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
          const result = toolResult(await rpc.callTool('get_node_status', { node: 'pve1' }));
          if (result.isError) throw new Error(`${subject}: first call failed: ${result.text}`);
          if (i >= WARMUP) {
            list[subject].push(listed);
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
  const rows = [
    ['spawn -> tools/list, built-in manifest', `${round(median(list['built-in']))} ms`],
    ['spawn -> tools/list, PROXMOX_MCP_TOOLS=tools.yaml', `${round(median(list.custom))} ms`],
    ['spawn -> first tool answer, built-in manifest', `${round(median(call['built-in']))} ms`],
    ['spawn -> first tool answer, PROXMOX_MCP_TOOLS=tools.yaml', `${round(median(call.custom))} ms`],
    [`custom / built-in (tools/list, target <= ${TARGET}x)`, `${ratio.toFixed(2)}x ${ratio <= TARGET ? 'PASS' : 'MISS'}`],
  ];
  const width = Math.max(...rows.map(([k]) => (k ?? '').length));
  process.stdout.write(`medians of ${RUNS} runs each\n${rows.map(([k, v]) => `${(k ?? '').padEnd(width)}  ${v ?? ''}`).join('\n')}\n`);
}

await main();
