// `npm run bench`: our server against the floor (bench/floor.mjs) and a direct HTTPS GET, side by
// side in one run, against the fake Proxmox over real TLS on loopback. Prints a table with targets
// and writes every figure to bench/results/latest.json. `--quick` for fewer rounds, `--server PATH`
// for another build, `--before PATH` to measure an earlier build beside it (start-up and memory),
// `--readme` to put the table in the README. Never part of `npm test`: timings
// on a shared machine are not assertions.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { makeBigCluster, makeCluster, startFakeProxmox, type FakeProxmox } from '../test/fake-proxmox/index.js';
import { fakeEnv } from '../test/support/mcp.js';
import { HOSTILE_CALL_TIMEOUT_MS, hostileAnswers, type HostileFigure } from './hostile.js';
import { directClient } from './lib/direct.js';
import { RpcProcess, handshake, toolResult, type RpcAnswer } from './lib/rpc-process.js';
import { median, round, summarize, type Summary } from './lib/stats.js';
import { markdownTable, printTable, type Row } from './lib/table.js';
import { loadTokenCounter, type TokenCounter } from './lib/tokens.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const serverArg = argv.indexOf('--server');
const SERVER = serverArg !== -1 && argv[serverArg + 1] !== undefined ? argv[serverArg + 1] ?? '' : fileURLToPath(new URL('../dist/cli.js', import.meta.url));
// `--before PATH`: the dist/cli.js of an earlier build (for example of main), measured in the same run.
const beforeArg = argv.indexOf('--before');
const BEFORE = beforeArg !== -1 ? argv[beforeArg + 1] : undefined;
const FLOOR = fileURLToPath(new URL('./floor.mjs', import.meta.url));
const OUT = fileURLToPath(new URL('./results/latest.json', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));
const README_START = '<!-- bench:start -->';
const README_END = '<!-- bench:end -->';

const PLAN = quick
  ? { coldWarmup: 1, coldRuns: 3, callWarmup: 10, callRounds: 60, bigRuns: 3, concRuns: 1 }
  : { coldWarmup: 2, coldRuns: 9, callWarmup: 30, callRounds: 300, bigRuns: 5, concRuns: 3 };
const LATENCY_MS = 5;
const CONC_CALLS = 200;
const CONC_IN_FLIGHT = 50;
const MAX_PAGES = 2000;
const STATUS_PATH = '/nodes/pve1/status';

if (!existsSync(SERVER)) {
  console.error(`bench: ${SERVER} is missing; run "npm run build" first (or pass --server PATH)`);
  process.exit(1);
}

if (BEFORE !== undefined && !existsSync(BEFORE)) {
  console.error(`bench: --before ${BEFORE} is missing`);
  process.exit(1);
}

type Subject = 'floor' | 'ours' | 'before';
const SUBJECTS: readonly Subject[] = BEFORE === undefined ? ['floor', 'ours'] : ['floor', 'ours', 'before'];
const SCRIPT: Record<Subject, string> = { floor: FLOOR, ours: SERVER, before: BEFORE ?? SERVER };

function envFor(fake: FakeProxmox): Record<string, string> {
  // The default rate limit (600 calls a minute) is a guard for assistants; the bench makes ~1,500 calls.
  return fakeEnv(fake, { PROXMOX_RATE_LIMIT: '1000000' });
}

function spawnSubject(subject: Subject, fake: FakeProxmox): RpcProcess {
  return new RpcProcess(process.execPath, [SCRIPT[subject]], envFor(fake));
}

const log = (text: string): void => {
  process.stderr.write(`bench: ${text}\n`);
};

interface ToolInfo {
  name: string;
  bytes: number;
  approxTokens: number;
  tokens?: number;
}

interface ListedTools {
  bytes: number;
  approxTokens: number;
  tokens?: number;
  tools: ToolInfo[];
}

let tokenCounter: TokenCounter | undefined;

function listedTools(answer: RpcAnswer): ListedTools {
  const tools = ((answer.message.result as { tools?: { name: string }[] } | undefined)?.tools ?? []).map((tool) => {
    const text = JSON.stringify(tool);
    const bytes = Buffer.byteLength(text);
    return { name: tool.name, bytes, approxTokens: Math.round(bytes / 4), ...(tokenCounter ? { tokens: tokenCounter.count(text) } : {}) };
  });
  const all = JSON.stringify(answer.message.result);
  return { bytes: answer.bytes, approxTokens: Math.round(answer.bytes / 4), ...(tokenCounter ? { tokens: tokenCounter.count(all) } : {}), tools };
}

/** Per-tool token figures: the real count where a tokenizer was found, else bytes / 4. */
function toolTokens(list: ListedTools | undefined): { max: number; median: number; over150: string[] } | undefined {
  if (list === undefined || list.tools.length === 0) return undefined;
  const counts = list.tools.map((t) => ({ name: t.name, n: t.tokens ?? t.approxTokens }));
  return {
    max: Math.max(...counts.map((c) => c.n)),
    median: median(counts.map((c) => c.n)),
    over150: counts.filter((c) => c.n >= 150).map((c) => `${c.name} (${c.n})`),
  };
}

// 1. Cold start: spawn -> initialize -> initialized -> tools/list answered.
async function coldStart(): Promise<{ ms: Record<Subject, number[]>; firstCallMs: Record<Subject, number[]>; list: Record<Subject, ListedTools | undefined> }> {
  const fake = await startFakeProxmox({ cluster: makeCluster() });
  const ms: Record<Subject, number[]> = { floor: [], ours: [], before: [] };
  const firstCallMs: Record<Subject, number[]> = { floor: [], ours: [], before: [] };
  const list: Record<Subject, ListedTools | undefined> = { floor: undefined, ours: undefined, before: undefined };
  try {
    for (let i = 0; i < PLAN.coldWarmup + PLAN.coldRuns; i++) {
      // Alternate who goes first so neither always runs on a cache the other just warmed.
      const order = i % 2 === 0 ? SUBJECTS : [...SUBJECTS].reverse();
      for (const subject of order) {
        const started = performance.now();
        const rpc = spawnSubject(subject, fake);
        try {
          await handshake(rpc);
          const answer = await rpc.request('tools/list');
          const elapsed = performance.now() - started;
          if (answer.message.error !== undefined) throw new Error(`tools/list failed: ${answer.message.error.message}`);
          if (i >= PLAN.coldWarmup) ms[subject].push(elapsed);
          list[subject] ??= listedTools(answer);
          // A host that calls a tool at once (most wait for the model): work deferred past tools/list shows here.
          const call = subject === 'floor' ? await rpc.callTool('get', { path: STATUS_PATH }) : await rpc.callTool('get_node_status', { node: 'pve1' });
          if (toolResult(call).isError) throw new Error(`${subject}: first call failed: ${toolResult(call).text}`);
          if (i >= PLAN.coldWarmup) firstCallMs[subject].push(performance.now() - started);
        } finally {
          await rpc.close();
        }
      }
    }
  } finally {
    await fake.close();
  }
  return { ms, firstCallMs, list };
}

interface Running {
  rpc: RpcProcess;
  fake: FakeProxmox;
  tools: string[];
  /** Upstream requests the server made on its own before the first call. */
  startupRequests: string[];
  memory: { after: string; peakKiB: number; currentKiB: number }[];
}

function checkpoint(running: Running, after: string): void {
  const m = running.rpc.memory();
  if (m !== undefined) running.memory.push({ after, ...m });
}

async function startRunning(subject: Subject): Promise<Running> {
  const fake = await startFakeProxmox({ cluster: makeBigCluster(), latencyMs: LATENCY_MS });
  const rpc = spawnSubject(subject, fake);
  await handshake(rpc);
  const answer = await rpc.request('tools/list');
  const tools = ((answer.message.result as { tools?: { name: string }[] } | undefined)?.tools ?? []).map((t) => t.name);
  // Our server checks the token's privileges just after start-up. A host's first call comes seconds
  // later; here it would race that check and open a second connection, so wait for it to settle.
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  await sleep(1000);
  let seen = -1;
  for (let i = 0; i < 10 && seen !== fake.requests.length; i++) {
    seen = fake.requests.length;
    await sleep(200);
  }
  return { rpc, fake, tools, startupRequests: fake.requests.map((r) => r.path), memory: [] };
}

// 2. Per-call overhead on one small endpoint, the three clients interleaved round by round.
async function perCall(
  floor: Running,
  ours: Running,
  directFake: FakeProxmox,
): Promise<{
  direct: number[];
  floor: number[];
  ours: number[];
  errors: Record<string, number>;
  oursTool: string;
  connections: Record<string, number>;
  newWhileMeasured: Record<string, number>;
}> {
  const direct = directClient(directFake);
  const oursTool = ours.tools.includes('get_node_status') ? 'get_node_status' : 'get_nodes';
  const oursArgs = oursTool === 'get_node_status' ? { node: 'pve1' } : {};
  const floorArgs = { path: oursTool === 'get_node_status' ? STATUS_PATH : '/nodes' };
  const directPath = floorArgs.path;
  const times = { direct: [] as number[], floor: [] as number[], ours: [] as number[] };
  const errors = { direct: 0, floor: 0, ours: 0 };
  let firstError: string | undefined;
  const afterWarmup = { direct: 0, floor: 0, ours: 0 };
  try {
    for (let i = 0; i < PLAN.callWarmup + PLAN.callRounds; i++) {
      const keep = i >= PLAN.callWarmup;
      if (i === PLAN.callWarmup) Object.assign(afterWarmup, { direct: directFake.connections, floor: floor.fake.connections, ours: ours.fake.connections });
      let started = performance.now();
      const d = await direct.get(directPath);
      const directMs = performance.now() - started;
      if (d.status !== 200) errors.direct++;
      const f = await floor.rpc.callTool('get', floorArgs);
      if (toolResult(f).isError) errors.floor++;
      started = performance.now();
      const o = await ours.rpc.callTool(oursTool, oursArgs);
      const r = toolResult(o);
      if (r.isError) {
        errors.ours++;
        firstError ??= r.text.slice(0, 300);
      }
      if (keep) {
        times.direct.push(directMs);
        times.floor.push(f.ms);
        times.ours.push(o.ms);
      }
    }
  } finally {
    direct.close();
  }
  if (firstError !== undefined) log(`per-call: our server answered an error: ${firstError}`);
  // Each client has a fake of its own, so these counts are its own since it started.
  const connections = { direct: directFake.connections, floor: floor.fake.connections, ours: ours.fake.connections };
  const newWhileMeasured = {
    direct: directFake.connections - afterWarmup.direct,
    floor: floor.fake.connections - afterWarmup.floor,
    ours: ours.fake.connections - afterWarmup.ours,
  };
  return { ...times, errors, oursTool, connections, newWhileMeasured };
}

interface Page {
  ms: number;
  bytes: number;
  records: number;
  upstreamRequests: number;
}

interface Walk {
  tool: string;
  firstPage: { ms: Summary; bytes: number; records: number; upstreamRequests: number[] };
  walk: {
    pages: number;
    totalMs: number;
    pageMs: Summary;
    bytesPerPage: Summary;
    recordsPerPage: Summary;
    records: number;
    distinctKeys: number;
    total: number | undefined;
    upstreamRequests: number;
    complete: boolean;
    error?: string;
  };
}

interface Listing {
  items: Record<string, unknown>[];
  total?: number;
  next_offset?: number | null;
}

function listingOf(answer: RpcAnswer): Listing | string {
  const r = toolResult(answer);
  if (r.isError) return r.text.slice(0, 300);
  let value = r.structured;
  if (value === undefined) {
    try {
      value = JSON.parse(r.text);
    } catch {
      return `answer is not JSON: ${r.text.slice(0, 120)}`;
    }
  }
  const listing = value as Partial<Listing> | null;
  if (listing === null || !Array.isArray(listing.items)) return 'answer has no items array';
  return listing as Listing;
}

async function page(running: Running, tool: string, args: Record<string, unknown>): Promise<{ page: Page; listing: Listing | string }> {
  const before = running.fake.requests.length;
  const answer = await running.rpc.callTool(tool, args, 60_000);
  const listing = listingOf(answer);
  return {
    page: {
      ms: answer.ms,
      bytes: answer.bytes,
      records: typeof listing === 'string' ? 0 : listing.items.length,
      upstreamRequests: running.fake.requests.length - before,
    },
    listing,
  };
}

function keyOf(item: Record<string, unknown>): string {
  const key = item.id ?? item.vmid ?? item.name ?? JSON.stringify(item);
  return typeof key === 'string' || typeof key === 'number' ? String(key) : JSON.stringify(key);
}

// 3. The 5,000-guest cluster: the first page several times, then the whole listing page by page.
async function walkTool(running: Running, tool: string): Promise<Walk> {
  const first: Page[] = [];
  let firstListing: Listing | string = '';
  for (let i = 0; i < PLAN.bigRuns; i++) {
    const p = await page(running, tool, {});
    first.push(p.page);
    firstListing = p.listing;
  }
  const pages: Page[] = [];
  const keys = new Set<string>();
  let records = 0;
  let offset: number | undefined;
  let error: string | undefined;
  let total: number | undefined;
  let complete = false;
  const started = performance.now();
  const before = running.fake.requests.length;
  for (let n = 0; n < MAX_PAGES; n++) {
    const p = await page(running, tool, offset === undefined ? {} : { offset });
    pages.push(p.page);
    if (typeof p.listing === 'string') {
      error = p.listing;
      break;
    }
    total ??= p.listing.total;
    records += p.listing.items.length;
    for (const item of p.listing.items) keys.add(keyOf(item));
    const next = p.listing.next_offset;
    if (typeof next !== 'number') {
      complete = true;
      break;
    }
    if (offset !== undefined && next <= offset) {
      error = `next_offset did not advance (${offset} -> ${next})`;
      break;
    }
    offset = next;
  }
  const totalMs = performance.now() - started;
  const firstPage = first[0];
  return {
    tool,
    firstPage: {
      ms: summarize(first.map((p) => p.ms)),
      bytes: firstPage?.bytes ?? 0,
      records: firstPage?.records ?? 0,
      upstreamRequests: first.map((p) => p.upstreamRequests),
    },
    walk: {
      pages: pages.length,
      totalMs: round(totalMs),
      pageMs: summarize(pages.map((p) => p.ms)),
      bytesPerPage: summarize(pages.map((p) => p.bytes)),
      recordsPerPage: summarize(pages.map((p) => p.records)),
      records,
      distinctKeys: keys.size,
      total,
      upstreamRequests: running.fake.requests.length - before,
      complete,
      ...(error !== undefined ? { error } : typeof firstListing === 'string' ? { error: firstListing } : {}),
    },
  };
}

/** Peak RSS (KiB) of a fresh server of `subject` after walking get_vms over the 5,000-guest cluster. */
async function walkPeak(subject: Subject): Promise<{ peakKiB: number | undefined; records: number }> {
  const running = await startRunning(subject);
  try {
    const walk = await walkTool(running, 'get_vms');
    return { peakKiB: running.rpc.memory()?.peakKiB, records: walk.walk.records };
  } finally {
    await running.rpc.close();
    await running.fake.close();
  }
}

interface WholeAnswer {
  ms: Summary;
  bytes: number;
  upstreamRequests: number[];
}

async function floorWhole(floor: Running): Promise<WholeAnswer> {
  const ms: number[] = [];
  const requests: number[] = [];
  let bytes = 0;
  for (let i = 0; i < PLAN.bigRuns; i++) {
    const before = floor.fake.requests.length;
    const answer = await floor.rpc.callTool('get', { path: '/cluster/resources' }, 60_000);
    ms.push(answer.ms);
    bytes = answer.bytes;
    requests.push(floor.fake.requests.length - before);
  }
  return { ms: summarize(ms), bytes, upstreamRequests: requests };
}

async function directWhole(fake: FakeProxmox): Promise<WholeAnswer> {
  const direct = directClient(fake);
  const ms: number[] = [];
  const requests: number[] = [];
  let bytes = 0;
  try {
    for (let i = 0; i < PLAN.bigRuns; i++) {
      const before = fake.requests.length;
      const started = performance.now();
      const answer = await direct.get('/cluster/resources');
      ms.push(performance.now() - started);
      bytes = answer.bytes;
      requests.push(fake.requests.length - before);
    }
  } finally {
    direct.close();
  }
  return { ms: summarize(ms), bytes, upstreamRequests: requests };
}

interface Concurrency {
  runs: number;
  callsPerRun: number;
  inFlight: number;
  throughput: number[];
  latency: Summary;
  errors: number;
  firstError?: string;
  connectionsOpened: number;
}

// 4. Many calls pipelined over one stdio: ids keep them apart, a pool of workers keeps 50 in flight.
async function concurrency(running: Running, tool: string, args: Record<string, unknown>): Promise<Concurrency> {
  const latencies: number[] = [];
  const throughput: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const connectionsBefore = running.fake.connections;
  for (let run = 0; run < PLAN.concRuns; run++) {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < CONC_CALLS) {
        next++;
        try {
          const answer = await running.rpc.callTool(tool, args, 60_000);
          latencies.push(answer.ms);
          const r = toolResult(answer);
          if (r.isError) {
            errors++;
            firstError ??= r.text.slice(0, 300);
          }
        } catch (error) {
          errors++;
          firstError ??= error instanceof Error ? error.message.slice(0, 300) : String(error);
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONC_IN_FLIGHT }, worker));
    throughput.push(round(CONC_CALLS / ((performance.now() - started) / 1000), 1));
  }
  return {
    runs: PLAN.concRuns,
    callsPerRun: CONC_CALLS,
    inFlight: CONC_IN_FLIGHT,
    throughput,
    latency: summarize(latencies),
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    connectionsOpened: running.fake.connections - connectionsBefore,
  };
}

// 6. Failures: a Proxmox error must come back as an error, and a hung host must be given up on
// within the server's own timeout (default settings), after which the next call is served.
interface Failures {
  upstream500: { isError: boolean; text: string };
  hang: { ms: number; isError: boolean; text: string };
  nextCallOk: boolean;
}

async function failures(running: Running, tool: string, args: Record<string, unknown>, path: string): Promise<Failures> {
  running.fake.setFault(path, { kind: 'status', status: 500, reason: 'Internal Server Error', body: '{"data":null,"message":"bench: simulated failure"}' });
  const e500 = toolResult(await running.rpc.callTool(tool, args));
  running.fake.setFault(path, { kind: 'hang' });
  const started = performance.now();
  const hung = toolResult(await running.rpc.callTool(tool, args, 120_000));
  const ms = performance.now() - started;
  running.fake.setFault(path, null);
  const next = toolResult(await running.rpc.callTool(tool, args));
  return { upstream500: { isError: e500.isError, text: e500.text.slice(0, 200) }, hang: { ms, isError: hung.isError, text: hung.text.slice(0, 200) }, nextCallOk: !next.isError };
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model ?? 'unknown',
    totalMemMiB: Math.round(os.totalmem() / 1048576),
    loadavg: os.loadavg().map((l) => round(l, 2)),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

const fmt = (n: number | undefined, digits = 2): string => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));
const mark = (ok: boolean | undefined): Row['status'] => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISS');

async function main(): Promise<void> {
  const wallStarted = performance.now();
  log(`${quick ? 'quick' : 'full'} run; server ${relative(process.cwd(), SERVER)}, floor ${relative(process.cwd(), FLOOR)}`);

  tokenCounter = await loadTokenCounter();
  log('1/7 cold start');
  const cold = await coldStart();

  log('2/7 per-call overhead');
  const floor = await startRunning('floor');
  const ours = await startRunning('ours');
  const directFake = await startFakeProxmox({ cluster: makeBigCluster(), latencyMs: LATENCY_MS });
  let result: Record<string, unknown>;
  let rows: Row[];
  try {
    for (const r of [floor, ours]) checkpoint(r, 'start-up');
    const call = await perCall(floor, ours, directFake);
    for (const r of [floor, ours]) checkpoint(r, 'per-call');

    log('3/7 big cluster (5,000 guests, 50 nodes)');
    const vms = ours.tools.includes('get_vms') ? await walkTool(ours, 'get_vms') : undefined;
    const resourcesTool = ours.tools.find((t) => t !== 'get_vms' && /resources/.test(t));
    const resources = resourcesTool !== undefined ? await walkTool(ours, resourcesTool) : undefined;
    const floorBig = await floorWhole(floor);
    const directBig = await directWhole(directFake);
    for (const r of [floor, ours]) checkpoint(r, 'big cluster');

    log(`4/7 concurrency (${CONC_CALLS} calls, ${CONC_IN_FLIGHT} in flight)`);
    const floorPath = call.oursTool === 'get_node_status' ? STATUS_PATH : '/nodes';
    const concFloor = await concurrency(floor, 'get', { path: floorPath });
    const concOurs = await concurrency(ours, call.oursTool, call.oursTool === 'get_node_status' ? { node: 'pve1' } : {});

    for (const r of [floor, ours]) checkpoint(r, 'concurrency');

    log('5/7 memory');
    const rssFloor = floor.rpc.memory()?.peakKiB;
    const rssOurs = ours.rpc.memory()?.peakKiB;

    let walkMemory: { ours: (number | undefined)[]; before: (number | undefined)[] } | undefined;
    if (BEFORE !== undefined) {
      log('5b/6 memory: a fresh server walking get_vms, this build and the one before, alternated');
      walkMemory = { ours: [], before: [] };
      for (let i = 0; i < (quick ? 1 : 3); i++) {
        for (const subject of i % 2 === 0 ? (['ours', 'before'] as const) : (['before', 'ours'] as const)) walkMemory[subject].push((await walkPeak(subject)).peakKiB);
      }
    }

    log('6/7 failures: a Proxmox 500, then a hung Proxmox (waits for the server\'s own timeout)');
    const fail = await failures(ours, call.oursTool, call.oursTool === 'get_node_status' ? { node: 'pve1' } : {}, call.oursTool === 'get_node_status' ? STATUS_PATH : '/nodes');

    // Figures.
    const coldFloor = median(cold.ms.floor);
    const coldOurs = median(cold.ms.ours);
    const d = summarize(call.direct);
    const f = summarize(call.floor);
    const o = summarize(call.ours);
    const listOurs = cold.list.ours;
    const tokOurs = toolTokens(listOurs);
    const tokFloor = toolTokens(cold.list.floor);
    const tokUnit = tokenCounter === undefined ? 'approx tokens (bytes/4)' : 'tokens';
    const rssFloorMiB = rssFloor === undefined ? undefined : rssFloor / 1024;
    const rssOursMiB = rssOurs === undefined ? undefined : rssOurs / 1024;
    const firstPageRequests = vms?.firstPage.upstreamRequests;

    rows = [
      { metric: 'cold start to tools/list, median ms', floor: fmt(coldFloor, 1), ours: fmt(coldOurs, 1), target: '< 300 ms', status: mark(coldOurs < 300) },
      { metric: 'cold start, ours / floor', floor: '', ours: `${fmt(coldOurs / coldFloor)}x`, target: '<= 1.5x', status: mark(coldOurs / coldFloor <= 1.5) },
      {
        metric: 'cold start to a first call answered at once, median ms',
        floor: fmt(median(cold.firstCallMs.floor), 1),
        ours: fmt(median(cold.firstCallMs.ours), 1),
        target: '',
        status: 'info',
      },
      {
        metric: `tools/list bytes (${tokUnit})`,
        floor: `${cold.list.floor?.bytes ?? 'n/a'} (${cold.list.floor?.tokens ?? cold.list.floor?.approxTokens ?? 'n/a'})`,
        ours: `${listOurs?.bytes ?? 'n/a'} (${listOurs?.tokens ?? listOurs?.approxTokens ?? 'n/a'})`,
        target: '',
        status: 'info',
      },
      {
        metric: `${tokUnit} per tool: median / max`,
        floor: tokFloor === undefined ? 'n/a' : `${tokFloor.median} / ${tokFloor.max}`,
        ours: tokOurs === undefined ? 'n/a' : `${tokOurs.median} / ${tokOurs.max} (${tokOurs.over150.length} of ${listOurs?.tools.length ?? 0} >= 150)`,
        target: '< 150 / tool',
        status: mark(tokOurs === undefined ? undefined : tokOurs.max < 150),
      },
      { metric: `per call, median ms (direct ${fmt(d.median)})`, floor: fmt(f.median), ours: fmt(o.median), target: '', status: 'info' },
      { metric: `per call, p90 ms (direct ${fmt(d.p90)})`, floor: fmt(f.p90), ours: fmt(o.p90), target: '', status: 'info' },
      { metric: 'per call, ms added over direct', floor: fmt(f.median - d.median), ours: fmt(o.median - d.median), target: '', status: 'info' },
      { metric: 'per call, ratio vs direct', floor: `${fmt(f.median / d.median)}x`, ours: `${fmt(o.median / d.median)}x`, target: '< 1.3x', status: mark(o.median / d.median < 1.3) },
      { metric: 'per call, ours - floor, ms', floor: '', ours: fmt(o.median - f.median), target: '< 0.3 ms', status: mark(o.median - f.median < 0.3) },
      {
        metric: 'upstream TLS connections, start-up + sequential calls',
        floor: `${call.connections.floor} (+${call.newWhileMeasured.floor} measured)`,
        ours: `${call.connections.ours} (+${call.newWhileMeasured.ours} measured)`,
        target: '1, reused',
        status: mark(call.connections.ours === 1),
      },
      {
        metric: 'get_vms first page: ms / records / KiB',
        floor: `${fmt(floorBig.ms.median, 1)} / all / ${fmt(floorBig.bytes / 1024, 0)}`,
        ours: vms === undefined ? 'n/a' : `${fmt(vms.firstPage.ms.median, 1)} / ${vms.firstPage.records} / ${fmt(vms.firstPage.bytes / 1024, 1)}`,
        target: '',
        status: 'info',
      },
      {
        metric: 'get_vms first page, upstream requests',
        floor: String(floorBig.upstreamRequests[0] ?? 'n/a'),
        ours: firstPageRequests === undefined ? 'n/a' : firstPageRequests.join(','),
        target: '1',
        status: mark(firstPageRequests === undefined ? undefined : firstPageRequests.every((n) => n === 1)),
      },
      {
        metric: 'get_vms whole walk: pages / records / ms / upstream requests',
        floor: '1 / all',
        ours: vms === undefined ? 'n/a' : `${vms.walk.pages} / ${vms.walk.records} of ${vms.walk.total ?? '?'} / ${fmt(vms.walk.totalMs, 0)} / ${vms.walk.upstreamRequests}`,
        target: 'all 5000',
        status: mark(vms === undefined ? undefined : vms.walk.complete && vms.walk.distinctKeys === 5000),
      },
      {
        metric: `${resourcesTool ?? 'cluster-resources tool'}: first page ms / records`,
        floor: '',
        ours: resources === undefined ? 'not offered' : `${fmt(resources.firstPage.ms.median, 1)} / ${resources.firstPage.records}`,
        target: '',
        status: resources === undefined ? 'n/a' : 'info',
      },
      {
        metric: `${resourcesTool ?? 'cluster-resources tool'}: walk pages / records / ms`,
        floor: '',
        ours: resources === undefined ? 'not offered' : `${resources.walk.pages} / ${resources.walk.records} of ${resources.walk.total ?? '?'} / ${fmt(resources.walk.totalMs, 0)}`,
        target: '',
        status: resources === undefined ? 'n/a' : mark(resources.walk.complete && resources.walk.error === undefined),
      },
      {
        metric: 'concurrency: calls/s (median of runs)',
        floor: fmt(median(concFloor.throughput), 0),
        ours: fmt(median(concOurs.throughput), 0),
        target: '',
        status: 'info',
      },
      {
        metric: 'concurrency: p50 / p99 ms',
        floor: `${fmt(concFloor.latency.median, 1)} / ${fmt(concFloor.latency.p99, 1)}`,
        ours: `${fmt(concOurs.latency.median, 1)} / ${fmt(concOurs.latency.p99, 1)}`,
        target: '',
        status: 'info',
      },
      {
        metric: 'concurrency: errors',
        floor: String(concFloor.errors),
        ours: String(concOurs.errors),
        target: '0',
        status: mark(concOurs.errors === 0),
      },
      {
        metric: 'concurrency: new upstream connections',
        floor: String(concFloor.connectionsOpened),
        ours: String(concOurs.connectionsOpened),
        target: '',
        status: 'info',
      },
      {
        metric: 'RSS after start-up / calls / big / conc, MiB',
        floor: floor.memory.map((m) => fmt(m.currentKiB / 1024, 0)).join(' / '),
        ours: ours.memory.map((m) => fmt(m.currentKiB / 1024, 0)).join(' / '),
        target: '',
        status: 'info',
      },
      { metric: 'peak RSS, MiB', floor: fmt(rssFloorMiB, 1), ours: fmt(rssOursMiB, 1), target: '< 100 MiB', status: mark(rssOursMiB === undefined ? undefined : rssOursMiB < 100) },
      {
        metric: 'peak RSS, ours - floor, MiB',
        floor: '',
        ours: fmt(rssOursMiB === undefined || rssFloorMiB === undefined ? undefined : rssOursMiB - rssFloorMiB, 1),
        target: '<= 10 MiB',
        status: mark(rssOursMiB === undefined || rssFloorMiB === undefined ? undefined : rssOursMiB - rssFloorMiB <= 10),
      },
      ...(BEFORE === undefined
        ? []
        : ((): Row[] => {
            const mib = (kib: (number | undefined)[]): number => median(kib.filter((k): k is number => k !== undefined)) / 1024;
            const walkOurs = walkMemory === undefined ? NaN : mib(walkMemory.ours);
            const walkBefore = walkMemory === undefined ? NaN : mib(walkMemory.before);
            return [
              { metric: 'before -> now: spawn to tools/list, median ms', floor: '', ours: `${fmt(median(cold.ms.before), 1)} -> ${fmt(coldOurs, 1)}`, target: '', status: 'info' },
              {
                metric: 'before -> now: spawn to first tool answer, median ms',
                floor: '',
                ours: `${fmt(median(cold.firstCallMs.before), 1)} -> ${fmt(median(cold.firstCallMs.ours), 1)}`,
                target: '',
                status: 'info',
              },
              {
                metric: 'before -> now: peak RSS walking 5,000 guests, MiB',
                floor: '',
                ours: `${fmt(walkBefore, 1)} -> ${fmt(walkOurs, 1)}`,
                target: '<= +10 %',
                status: mark(walkOurs <= walkBefore * 1.1),
              },
            ];
          })()),
      { metric: 'Proxmox 500: reported as an error', floor: '', ours: fail.upstream500.isError ? 'isError' : 'success', target: 'isError', status: mark(fail.upstream500.isError) },
      {
        metric: 'hung Proxmox: s to a clear error (default timeout)',
        floor: 'no timeout',
        ours: `${fmt(fail.hang.ms / 1000, 1)} s${fail.hang.isError ? '' : ' (not an error)'}`,
        target: 'within timeout',
        status: mark(fail.hang.isError && fail.hang.ms < 20_000),
      },
      { metric: 'after the hang: next call answered', floor: '', ours: fail.nextCallOk ? 'yes' : 'no', target: 'yes', status: mark(fail.nextCallOk) },
    ];

    result = {
      machine: machine(),
      plan: { quick, ...PLAN, upstreamLatencyMs: LATENCY_MS, server: relative(process.cwd(), SERVER), perCallTool: call.oursTool, perCallPath: STATUS_PATH },
      coldStart: {
        ms: { floor: summarize(cold.ms.floor), ours: summarize(cold.ms.ours) },
        firstCallMs: { floor: summarize(cold.firstCallMs.floor), ours: summarize(cold.firstCallMs.ours) },
        ratio: round(coldOurs / coldFloor),
        toolsList: cold.list,
      },
      perCall: {
        direct: d,
        floor: f,
        ours: o,
        addedOverDirectMs: { floor: round(f.median - d.median), ours: round(o.median - d.median) },
        ratioVsDirect: { floor: round(f.median / d.median), ours: round(o.median / d.median) },
        oursMinusFloorMs: round(o.median - f.median),
        errors: call.errors,
        upstreamConnections: call.connections,
        newConnectionsWhileMeasured: call.newWhileMeasured,
      },
      bigCluster: { guests: 5000, nodes: 50, getVms: vms ?? null, clusterResources: resources ?? null, floorWhole: floorBig, directWhole: directBig },
      concurrency: { floor: concFloor, ours: concOurs },
      failures: fail,
      memory: { peakRssKiB: { floor: rssFloor ?? null, ours: rssOurs ?? null }, checkpoints: { floor: floor.memory, ours: ours.memory }, walkPeakKiB: walkMemory ?? null },
      ...(BEFORE === undefined
        ? {}
        : { before: { server: BEFORE, coldStartMs: summarize(cold.ms.before), firstCallMs: summarize(cold.firstCallMs.before) } }),
      startupUpstreamRequests: { floor: floor.startupRequests, ours: ours.startupRequests },
      tokenizer: tokenCounter?.name ?? 'none (bytes / 4)',
      toolTokens: { floor: tokFloor ?? null, ours: tokOurs ?? null },
      targets: rows.filter((r) => r.status === 'PASS' || r.status === 'MISS').map((r) => ({ metric: r.metric, target: r.target, ours: r.ours, status: r.status })),
    };
    if (ours.rpc.stderr.includes('ERROR')) log(`our server logged errors:\n${ours.rpc.stderr.slice(-2000)}`);
  } finally {
    await Promise.all([floor.rpc.close(), ours.rpc.close()]);
    await Promise.all([floor.fake.close(), ours.fake.close(), directFake.close()]);
  }

  log('7/7 hostile answers and a stalled host (a fresh server for each)');
  const hostileFake = await startFakeProxmox();
  let hostile: HostileFigure[];
  try {
    hostile = await hostileAnswers(SERVER, hostileFake, log);
  } finally {
    await hostileFake.close();
  }
  for (const h of hostile) {
    rows.push({ metric: `${h.name}: largest event-loop block, ms`, floor: '', ours: `${fmt(h.maxBlockMs, 0)} (idle ${fmt(h.idleBlockMs, 0)})`, target: '< 100 ms', status: mark(h.maxBlockMs < 100) });
    rows.push({ metric: `${h.name}: peak RSS, MiB`, floor: '', ours: fmt(h.peakRssMiB, 1), target: '', status: 'info' });
    if (h.calls > 1) {
      rows.push({
        metric: `${h.name}: answered within the call timeout + 1 s`,
        floor: '',
        ours: `${h.answeredInTime} / ${h.calls}, slowest ${fmt(h.slowestCallMs / 1000, 1)} s`,
        target: `all, ${HOSTILE_CALL_TIMEOUT_MS / 1000} s timeout`,
        status: mark(h.answeredInTime === h.calls),
      });
    }
  }
  result.hostile = hostile;
  result.targets = rows.filter((r) => r.status === 'PASS' || r.status === 'MISS').map((r) => ({ metric: r.metric, target: r.target, ours: r.ours, status: r.status }));

  const wallMs = performance.now() - wallStarted;
  result.wallSeconds = round(wallMs / 1000, 1);
  printTable(rows);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  if (argv.includes('--readme')) writeReadme(rows, result);
  const misses = rows.filter((r) => r.status === 'MISS').length;
  process.stdout.write(`\n${misses === 0 ? 'all targets met' : `${misses} target(s) missed`}; ${fmt(wallMs / 1000, 1)} s; results written to ${relative(process.cwd(), OUT)}\n`);
}

/** `--readme`: the table, the machine and the command, between the README's bench markers. */
function writeReadme(rows: readonly Row[], result: Record<string, unknown>): void {
  const m = result.machine as { cpus: number; model: string; totalMemMiB: number; platform: string; node: string; date: string };
  const section = [
    README_START,
    `Measured ${m.date.slice(0, 10)} with \`npm run bench${quick ? ' -- --quick' : ''}\` on ${m.cpus} × ${m.model}, ${Math.round(m.totalMemMiB / 1024)} GiB, ${m.platform}, Node ${m.node}`,
    `(a shared machine: compare the columns, which come from one run, rather than absolute times). Floor: a bare`,
    'Node script that answers `initialize` and `tools/list` by hand and forwards one call as a keep-alive HTTPS GET',
    '([bench/floor.mjs](bench/floor.mjs)). Fake Proxmox over TLS on loopback, answering after 5 ms. What each row',
    'means: [bench/README.md](bench/README.md).',
    '',
    markdownTable(rows),
    README_END,
  ].join('\n');
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start === -1 || end === -1) {
    log('README has no bench markers; not updated');
    return;
  }
  writeFileSync(README, text.slice(0, start) + section + text.slice(end + README_END.length));
  log('README benchmark section updated');
}

// Everything is on loopback and bounded; this only guards against a server that stops answering.
const watchdog = setTimeout(() => {
  console.error('bench: gave up after 10 minutes');
  process.exit(2);
}, 600_000);
watchdog.unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('bench failed:', error);
    process.exit(1);
  },
);
