// `npm run bench:tasks`: operator questions as a model would answer them, against the fake Proxmox
// (the demo cluster, a 58-guest cluster and a 5,000-guest one): for each, the calls a model needs,
// the tokens of the answers it reads and whether the answer it reads is right. Prints a table,
// writes bench/results/tasks-<label>.json; `--label before` records the figures a later run is
// compared with, `--write` puts the table in bench/tasks.md and the README.
//
// A plan asks with today's arguments first; an argument the server does not take yet (an older
// build) is not counted and the plan falls back to what that build offers, so one script measures
// both.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeBigCluster, makeCluster, startFakeProxmox, type ClusterModel } from '../test/fake-proxmox/index.js';
import { ClusterIndex } from '../test/fake-proxmox/data.js';
import { CLI, call, connect, fakeEnv, type CallOutcome } from '../test/support/mcp.js';
import { loadTokenCounter } from './lib/tokens.js';

const argv = process.argv.slice(2);
const labelAt = argv.indexOf('--label');
const LABEL = labelAt !== -1 ? (argv[labelAt + 1] ?? 'latest') : 'latest';
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const TASKS_MD = fileURLToPath(new URL('./tasks.md', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));
const START = '<!-- tasks:start (npm run bench:tasks -- --write) -->';
const END = '<!-- tasks:end -->';

type Obj = Record<string, unknown>;

interface Figure {
  question: string;
  cluster: string;
  calls: number;
  tokens: number;
  correct: boolean;
  how: string;
}

interface Asker {
  /** A call the model makes: counted. */
  ask(name: string, args?: Obj): Promise<CallOutcome>;
  /** A call with arguments an older build may not take: counted only when the build takes them. */
  tryAsk(name: string, args?: Obj): Promise<CallOutcome | undefined>;
}

interface Question {
  question: string;
  clusters: ('demo' | 'mid' | 'big')[];
  run(a: Asker, truth: Truth): Promise<{ correct: boolean; how: string }>;
}

const counter = await loadTokenCounter();
const tokens = (text: string): number => counter?.count(text) ?? Math.ceil(Buffer.byteLength(text) / 4);

/** What the fake cluster holds, computed from its model rather than from any answer. */
class Truth {
  readonly index: ClusterIndex;
  constructor(model: ClusterModel) {
    this.index = new ClusterIndex(model);
  }
  guests(): Obj[] {
    return this.index.resourceRows.filter((r) => r.kind === 'vm').map((r) => r.row);
  }
  stopped(): number[] {
    return this.guests().filter((g) => g.status === 'stopped').map((g) => Number(g.vmid)).sort((a, b) => a - b);
  }
  topMemory(n: number): number[] {
    return this.guests()
      .filter((g) => typeof g.mem === 'number')
      .sort((a, b) => Number(b.mem) - Number(a.mem) || Number(a.vmid) - Number(b.vmid))
      .slice(0, n)
      .map((g) => Number(g.vmid));
  }
  fullestStorage(): string {
    let best = '';
    let most = -1;
    for (const r of this.index.resourceRows) {
      if (r.kind !== 'storage' || typeof r.row.disk !== 'number' || typeof r.row.maxdisk !== 'number') continue;
      const used = r.row.disk / r.row.maxdisk;
      if (used > most) {
        most = used;
        best = String(r.row.id);
      }
    }
    return best;
  }
  busiestNode(): string {
    const online = this.index.model.nodes.filter((n) => n.online);
    return online.map((n) => ({ name: n.name, mem: this.index.nodeMetrics(n).mem })).sort((a, b) => b.mem - a.mem)[0]?.name ?? '';
  }
  failedTasks(): string[] {
    return this.index.tasks.filter((t) => t.status !== undefined && t.status !== 'OK').map((t) => t.upid);
  }
}

const items = (r: CallOutcome | undefined): Obj[] => (r?.structured?.items as Obj[] | undefined) ?? [];
const NOT_TAKEN = /unknown argument|must be one of|Tool .* not found|must be integer|must be string|must be number/i;

/** Walks next_offset to the end, as a model does when it needs every row. */
async function walk(a: Asker, name: string, args: Obj, enough: (rows: Obj[]) => boolean = () => false): Promise<Obj[]> {
  const rows: Obj[] = [];
  let offset: number | undefined = 0;
  for (let pages = 0; offset !== undefined && pages < 200; pages++) {
    const r = await a.ask(name, { ...args, ...(offset > 0 ? { offset } : {}) });
    rows.push(...items(r));
    if (enough(rows)) break;
    const next: unknown = r.structured?.next_offset;
    offset = typeof next === 'number' ? next : undefined;
  }
  return rows;
}

const sameList = (a: number[], b: number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

const QUESTIONS: Question[] = [
  {
    question: "What is VM 100's IP address?",
    clusters: ['demo', 'big'],
    async run(a) {
      let row = items(await a.tryAsk('get_vms', { vmid: 100 }))[0];
      if (row === undefined) row = (await walk(a, 'get_vms', {}, (rows) => rows.some((g) => g.vmid === 100))).find((g) => g.vmid === 100);
      const r = await a.ask('get_vm_network', { node: row?.node, vmid: 100 });
      return { correct: r.text.includes('"10.0.0.100"'), how: 'get_vms vmid=100, get_vm_network' };
    },
  },
  {
    question: 'Which guests are stopped?',
    clusters: ['demo', 'big'],
    async run(a, truth) {
      const rows = await walk(a, 'get_vms', { status: 'stopped' });
      const got = rows.map((g) => Number(g.vmid)).sort((x, y) => x - y);
      return { correct: sameList(got, truth.stopped()), how: 'get_vms status=stopped' };
    },
  },
  {
    question: 'Which 5 guests use the most memory?',
    clusters: ['demo', 'big'],
    async run(a, truth) {
      const r = await a.ask('get_vms', { sort: 'mem', order: 'desc', limit: 5 });
      return { correct: sameList(items(r).map((g) => Number(g.vmid)), truth.topMemory(5)), how: 'get_vms sort=mem desc limit=5' };
    },
  },
  {
    question: 'How is VM 100 doing (live status)?',
    clusters: ['demo'],
    async run(a) {
      const r = await a.ask('get_vm_status', { node: 'pve1', vmid: 100 });
      return { correct: !r.isError && r.structured?.status === 'running', how: 'get_vm_status' };
    },
  },
  {
    question: 'Which storage is nearly full?',
    clusters: ['demo', 'big'],
    async run(a, truth) {
      const sorted = await a.tryAsk('get_storage', { sort: 'used_pct', order: 'desc', limit: 3 });
      const rows = sorted !== undefined ? items(sorted) : await walk(a, 'get_storage', {});
      // Without a sort the model has to compare the percentages itself: right only if the top row is.
      const id = (row: Obj | undefined): string => (row === undefined ? '' : `storage/${String(row.node)}/${String(row.storage)}`);
      return { correct: id(rows[0]) === truth.fullestStorage(), how: sorted ? 'get_storage sort=used_pct desc' : 'get_storage (all pages)' };
    },
  },
  {
    question: 'What failed recently?',
    clusters: ['demo', 'big'],
    async run(a, truth) {
      const failed = await a.tryAsk('get_cluster_tasks', { errors: true });
      const rows = failed !== undefined ? items(failed) : items(await a.ask('get_cluster_tasks', {}));
      const wanted = truth.failedTasks();
      const shown = new Set(rows.filter((t) => t.status !== 'OK' && t.status !== undefined).map((t) => String(t.upid)));
      // Right when every failure is in what the model read, or the failures it read are the newest
      // and the answer says more remain.
      const more = failed?.structured?.next_offset !== undefined;
      const ok = wanted.every((u) => shown.has(u)) || (more && wanted.slice(0, shown.size).every((u) => shown.has(u)));
      return { correct: ok, how: failed ? 'get_cluster_tasks errors=true' : 'get_cluster_tasks (first page, failures mixed in)' };
    },
  },
  {
    question: 'Which node uses the most memory?',
    clusters: ['demo'],
    async run(a, truth) {
      const r = await a.ask('get_nodes', { sort: 'mem', order: 'desc' });
      const first = items(r)[0];
      return { correct: first?.node === truth.busiestNode(), how: 'get_nodes sort=mem desc' };
    },
  },
  {
    question: 'How is node pve1 doing?',
    clusters: ['demo'],
    async run(a) {
      const r = await a.ask('get_node_status', { node: 'pve1' });
      return { correct: !r.isError, how: 'get_node_status' };
    },
  },
  {
    question: 'List every guest',
    clusters: ['demo', 'mid', 'big'],
    async run(a, truth) {
      const rows = await walk(a, 'get_vms', {});
      return { correct: rows.length === truth.guests().length, how: 'get_vms, following next_offset' };
    },
  },
  {
    question: "What is container 102's IP address?",
    clusters: ['demo'],
    async run(a) {
      const r = await a.tryAsk('get_container_interfaces', { node: 'pve1', vmid: 102 });
      if (r !== undefined) return { correct: r.text.includes('10.0.0.102'), how: 'get_container_interfaces' };
      const c = await a.ask('get_container_config', { node: 'pve1', vmid: 102 });
      return { correct: c.text.includes('10.0.0.102'), how: 'get_container_config (says ip=dhcp only)' };
    },
  },
  {
    question: 'Which guests have no backup?',
    clusters: ['demo'],
    async run(a) {
      const r = await a.ask('get_not_backed_up', {});
      return { correct: sameList(items(r).map((g) => Number(g.vmid)), [103, 110]), how: 'get_not_backed_up' };
    },
  },
  {
    question: 'Is the cluster healthy (quorum, nodes)?',
    clusters: ['demo'],
    async run(a) {
      const r = await a.ask('get_cluster_status', {});
      return { correct: r.text.includes('"quorate":true'), how: 'get_cluster_status' };
    },
  },
];

async function measure(name: string, model: ClusterModel): Promise<Figure[]> {
  const fake = await startFakeProxmox({ cluster: model });
  const mcp = await connect(fakeEnv(fake, { PROXMOX_RATE_LIMIT: '1000000' }));
  const truth = new Truth(model);
  const out: Figure[] = [];
  try {
    for (const q of QUESTIONS) {
      if (!q.clusters.includes(name as 'demo')) continue;
      let calls = 0;
      let used = 0;
      const record = (r: CallOutcome): CallOutcome => {
        calls++;
        used += tokens(r.text);
        return r;
      };
      const asker: Asker = {
        ask: async (tool, args = {}) => record(await call(mcp.client, tool, args)),
        tryAsk: async (tool, args = {}) => {
          const r = await call(mcp.client, tool, args).catch(() => undefined);
          if (r === undefined || (r.isError && NOT_TAKEN.test(r.text))) return undefined;
          return record(r);
        },
      };
      const { correct, how } = await q.run(asker, truth);
      out.push({ question: q.question, cluster: name, calls, tokens: used, correct, how });
    }
  } finally {
    await mcp.close();
    await fake.close();
  }
  return out;
}

async function toolsListTokens(): Promise<{ tools: number; average: number; max: number }> {
  const fake = await startFakeProxmox();
  const mcp = await connect(fakeEnv(fake));
  try {
    const { tools } = await mcp.client.listTools();
    const counts = tools.map((t) => tokens(JSON.stringify(t)));
    return { tools: tools.length, average: Math.round(counts.reduce((s, n) => s + n, 0) / counts.length), max: Math.max(...counts) };
  } finally {
    await mcp.close();
    await fake.close();
  }
}

if (!existsSync(CLI)) {
  console.error(`bench:tasks: ${CLI} is missing; run "npm run build" first`);
  process.exit(1);
}

const figures = [
  ...(await measure('demo', makeCluster())),
  ...(await measure('mid', makeCluster({ nodes: 2, guestsPerNode: 29, offline: [] }))),
  ...(await measure('big', makeBigCluster())),
];
const listing = await toolsListTokens();
mkdirSync(RESULTS, { recursive: true });
const result = { label: LABEL, tokenizer: counter?.name ?? 'bytes / 4', toolsList: listing, figures };
writeFileSync(`${RESULTS}tasks-${LABEL}.json`, `${JSON.stringify(result, null, 2)}\n`);

const beforeFile = `${RESULTS}tasks-before.json`;
const before = LABEL !== 'before' && existsSync(beforeFile) ? (JSON.parse(readFileSync(beforeFile, 'utf8')) as typeof result) : undefined;
const CLUSTERS: Record<string, string> = { demo: 'demo (12 guests)', mid: '58 guests', big: '5,000 guests' };

function table(): string {
  const lines = before
    ? ['| question | cluster | calls before → after | answer tokens before → after | right before → after |', '|---|---|---|---|---|']
    : ['| question | cluster | calls | answer tokens | right | how |', '|---|---|---|---|---|---|'];
  const yes = (b: boolean | undefined): string => (b === undefined ? '–' : b ? 'yes' : 'NO');
  for (const f of figures) {
    if (before) {
      const b = before.figures.find((x) => x.question === f.question && x.cluster === f.cluster);
      lines.push(`| ${f.question} | ${CLUSTERS[f.cluster] ?? f.cluster} | ${b?.calls ?? '–'} → ${f.calls} | ${b?.tokens.toLocaleString('en') ?? '–'} → ${f.tokens.toLocaleString('en')} | ${yes(b?.correct)} → ${yes(f.correct)} |`);
    } else {
      lines.push(`| ${f.question} | ${CLUSTERS[f.cluster] ?? f.cluster} | ${f.calls} | ${f.tokens.toLocaleString('en')} | ${yes(f.correct)} | ${f.how} |`);
    }
  }
  const b = before?.toolsList;
  lines.push('', `tools/list: ${listing.tools} tools, ${listing.average} tokens a tool on average (largest ${listing.max})${b ? `; before: ${b.tools} tools, ${b.average} on average (largest ${b.max})` : ''}. Tokens: ${result.tokenizer}.`);
  return lines.join('\n');
}

const text = table();
process.stdout.write(`\n${text}\n`);
if (argv.includes('--write')) {
  writeFileSync(TASKS_MD, `# Operator questions: calls and answer tokens\n\nMade by \`npm run bench:tasks -- --write\` (bench/tasks.ts) against the fake Proxmox. "before" is the server before answers were reordered, trimmed and given output schemas.\n\n${text}\n`);
  const readme = readFileSync(README, 'utf8');
  const s = readme.indexOf(START);
  const e = readme.indexOf(END);
  if (s >= 0 && e > s) writeFileSync(README, `${readme.slice(0, s)}${START}\n\n${text}\n\n${readme.slice(e)}`);
}
