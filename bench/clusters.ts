// Several clusters in one server: spawn -> tools/list answered, and the tokens tools/list costs
// every turn, with 1 and with 5 clusters (each a fake Proxmox of its own, all reachable). Start-up
// reads each cluster's token privileges once, in parallel, before tools/list. With more than one
// cluster every tool takes `cluster` and get_clusters is added.
// Run with `npm run bench:clusters` (after `npm run build`).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { makeCluster, startFakeProxmox, type FakeProxmox } from '../test/fake-proxmox/index.js';
import { fakeEnv } from '../test/support/mcp.js';
import { RpcProcess, handshake } from './lib/rpc-process.js';
import { median, round } from './lib/stats.js';
import { loadTokenCounter } from './lib/tokens.js';

const SERVER = process.env.BENCH_SERVER ?? fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const WARMUP = 2;
const COUNTS = [1, 5] as const;

function clustersFile(fakes: FakeProxmox[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'pmcp-bench-clusters-'));
  const file = join(dir, 'clusters.yaml');
  const entries = fakes.map(
    (f, i) => `  - name: c${String(i + 1)}\n    host: 127.0.0.1\n    port: ${String(f.port)}\n    token_id: "${f.tokenId}"\n    token_secret_env: SECRET_${String(i + 1)}\n    ca_file: ${f.caFile}\n`,
  );
  writeFileSync(file, `clusters:\n${entries.join('')}`, { mode: 0o600 });
  return file;
}

async function main(): Promise<void> {
  const fakes = await Promise.all([0, 1, 2, 3, 4].map(() => startFakeProxmox({ cluster: makeCluster() })));
  const counter = await loadTokenCounter();
  const envFor = (count: number): Record<string, string> => {
    const first = fakes[0] as FakeProxmox;
    if (count === 1) return fakeEnv(first);
    const chosen = fakes.slice(0, count);
    const secrets = Object.fromEntries(chosen.map((f, i) => [`SECRET_${String(i + 1)}`, f.tokenSecret]));
    return { PATH: process.env.PATH ?? '', PROXMOX_MCP_CLUSTERS: clustersFile(chosen), ...secrets };
  };
  const envs = new Map(COUNTS.map((n) => [n, envFor(n)]));
  const times = new Map<number, number[]>(COUNTS.map((n) => [n, []]));
  const lists = new Map<number, string>();
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const order = i % 2 === 0 ? COUNTS : [...COUNTS].reverse();
      for (const n of order) {
        const started = performance.now();
        const rpc = new RpcProcess(process.execPath, [SERVER], envs.get(n) ?? {});
        try {
          await handshake(rpc);
          const answer = await rpc.request('tools/list');
          if (answer.message.error !== undefined) throw new Error(`${String(n)} clusters: tools/list failed: ${answer.message.error.message}`);
          if (i >= WARMUP) times.get(n)?.push(performance.now() - started);
          lists.set(n, JSON.stringify(answer.message.result));
        } finally {
          await rpc.close();
        }
      }
    }
  } finally {
    await Promise.all(fakes.map((f) => f.close()));
  }
  const rows = COUNTS.flatMap((n) => {
    const text = lists.get(n) ?? '';
    const tools = (JSON.parse(text) as { tools: unknown[] }).tools.length;
    const tokens = counter === undefined ? `~${String(Math.round(text.length / 4))} (bytes / 4)` : String(counter.count(text));
    return [
      [`${String(n)} cluster(s): spawn -> tools/list`, `${round(median(times.get(n) ?? []))} ms`],
      [`${String(n)} cluster(s): tools/list tools, bytes, tokens`, `${String(tools)}, ${String(text.length)}, ${tokens}`],
    ];
  });
  const width = Math.max(...rows.map(([k]) => (k ?? '').length));
  process.stdout.write(`medians of ${String(RUNS)} runs each${counter === undefined ? '' : `; tokens by ${counter.name}`}\n${rows.map(([k, v]) => `${(k ?? '').padEnd(width)}  ${v ?? ''}`).join('\n')}\n`);
}

await main();
