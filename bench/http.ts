// `npm run bench` (after bench/run.ts): the built server over Streamable HTTP (`proxmox-mcp http`)
// with 50 concurrent clients making 2,000 tool calls against the fake Proxmox answering after 5 ms.
// Prints throughput, p50 and p99, errors, upstream connections opened and the server's peak RSS,
// and the cost of the per-request server object (an McpServer and its tool loop, built in process
// from the shared manifest, validators and runtime). Figures, not assertions.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startFakeProxmox } from '../test/fake-proxmox/index.js';
import { fakeEnv } from '../test/support/mcp.js';
import { createLogger } from '../src/logger.js';
import { loadManifest } from '../src/manifest/load.js';
import { createServerFactory } from '../src/mcp/server.js';
import type { Runtime } from '../src/tools/runtime.js';
import { percentile, round } from './lib/stats.js';

const CLIENTS = 50;
const CALLS = 2000;
const LATENCY_MS = 5;
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Per-request server objects, built from shared parts as the HTTP handler builds them. */
async function factoryCost(): Promise<{ perServerUs: number; runs: number }> {
  const manifest = await loadManifest(undefined);
  const logger = createLogger({ level: 'ERROR' });
  const runtime: Runtime = { call: () => Promise.resolve({ text: '', isError: false }) };
  const createServer = createServerFactory({ manifest, runtime, logger });
  for (let i = 0; i < 200; i++) createServer();
  const runs = 2000;
  const started = performance.now();
  for (let i = 0; i < runs; i++) createServer();
  return { perServerUs: round(((performance.now() - started) / runs) * 1000, 1), runs };
}

function post(agent: Agent, url: URL, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const fake = await startFakeProxmox({ latencyMs: LATENCY_MS });
// BENCH_PROF_DIR=dir writes a CPU profile of the server there.
const prof = process.env.BENCH_PROF_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF_DIR}`];
const child = spawn(process.execPath, [...prof, CLI, 'http'], {
  env: fakeEnv(fake, {
    PROXMOX_MCP_HTTP_LISTEN: '127.0.0.1:0',
    PROXMOX_LOG_LEVEL: 'INFO',
    // The default bounds guard a shared server; the bench is one client making 2,000 calls at once.
    PROXMOX_RATE_LIMIT: '1000000',
    PROXMOX_MCP_HTTP_RATE_LIMIT: '1000000',
    PROXMOX_MCP_HTTP_MAX_IN_FLIGHT: '1000',
  }),
  stdio: ['ignore', 'ignore', 'pipe'],
});
const url = await new Promise<URL>((resolve, reject) => {
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (log.length > 10_000) return;
    log += chunk.toString();
    const m = /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(log);
    if (m?.[1] !== undefined) resolve(new URL(m[1]));
  });
  child.once('exit', (code) => {
    reject(new Error(`server exited (${String(code)}): ${log}`));
  });
});

const body = (id: number): string => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get_node_status', arguments: { node: 'pve1' } } });
// Warm-up: one call per client, so connections and lazily compiled code are in place.
const agents = Array.from({ length: CLIENTS }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
await Promise.all(agents.map((a, i) => post(a, url, body(i))));

/** CPU time the server process has used, in ms (user + system, from /proc). */
const cpuMs = (): number => {
  const fields = readFileSync(`/proc/${String(child.pid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
};
const cpuBefore = cpuMs();
const latencies: number[] = [];
let errors = 0;
let next = 0;
const started = performance.now();
await Promise.all(
  agents.map(async (agent) => {
    for (;;) {
      const id = next++;
      if (id >= CALLS) return;
      const t = performance.now();
      try {
        const res = await post(agent, url, body(id));
        if (res.status !== 200 || !res.text.includes('"result"') || res.text.includes('"isError":true')) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t);
    }
  }),
);
const wallMs = performance.now() - started;
const serverCpuMs = cpuMs() - cpuBefore;
const status = readFileSync(`/proc/${String(child.pid)}/status`, 'utf8');
const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
const connections = fake.connections;
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
for (const a of agents) a.destroy();
await fake.close();
const factory = await factoryCost();

say(`\nHTTP: ${CLIENTS} concurrent clients, ${CALLS} calls of get_node_status, fake Proxmox answering after ${LATENCY_MS} ms`);
say('| figure | value |');
say('|---|---|');
say(`| throughput | ${round(CALLS / (wallMs / 1000), 0)} calls/s (${round(wallMs, 0)} ms in all) |`);
say(`| server CPU per call | ${round(serverCpuMs / CALLS, 2)} ms (load average ${os.loadavg()[0]?.toFixed(1) ?? '?'} on ${os.availableParallelism()} cores) |`);
say(`| p50 | ${round(percentile(latencies, 50), 1)} ms |`);
say(`| p99 | ${round(percentile(latencies, 99), 1)} ms |`);
say(`| errors | ${errors} |`);
say(`| upstream connections opened | ${connections} (PROXMOX_MAX_CONCURRENCY 8) |`);
say(`| server peak RSS | ${round(peakKb / 1024, 1)} MB |`);
say(`| per-request server object | ${factory.perServerUs} µs (McpServer + tool loop, mean of ${factory.runs}) |`);
if (errors > 0) process.exitCode = 1;
