// Bundles the server into dist/: one CommonJS bundle (server.cjs) with the compiled manifest inlined,
// a small launcher (cli.js, src/cli/launcher.ts), a V8 code cache made by starting the built server once
// and letting it answer initialize and tools/list, so the functions start-up needs are already
// compiled, and the server's own answers to initialize and tools/list for every protocol version it
// accepts (startup.json), which the launcher sends while the server loads.
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { build, type Plugin } from 'esbuild';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import type { Startup } from '../src/cli/launcher.js';

// Proxmox's API speaks HTTP/1.1 and the agent never asks for HTTP/2, but undici loads node:http2 when
// it loads (inside a try, falling back to an empty stand-in when it is missing): leaving it out of the
// server saves Node's HTTP/2 module, about 1.6 MB and 4 ms at start-up. A test checks it stays unloaded.
const withoutHttp2: Plugin = {
  name: 'without-http2',
  setup(b) {
    b.onResolve({ filter: /^(node:)?http2$/ }, () => ({ path: 'http2', namespace: 'without-http2' }));
    b.onLoad({ filter: /.*/, namespace: 'without-http2' }, () => ({ contents: "throw new Error('proxmox-mcp does not speak HTTP/2');", loader: 'js' }));
  },
};

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/server.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: process.env.PROXMOX_MCP_BUILD_DEBUG !== '1',
  legalComments: 'linked',
  sourcemap: 'linked',
  define: { 'import.meta.url': '__bundleUrl' },
  inject: ['src/bundle-globals.ts'],
  plugins: [withoutHttp2],
  // 'use strict' first: esbuild's own directive comes after the banner, where it is not a directive.
  banner: { js: "'use strict';\nconst __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// The launcher is CommonJS too (dist/package.json says so): an ES module entry point would load
// Node's ES module loader first, about 2 MB and a few milliseconds before the first answer.
await build({
  entryPoints: ['src/cli/launcher.ts'],
  outfile: 'dist/cli.js',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: process.env.PROXMOX_MCP_BUILD_DEBUG !== '1',
  define: { 'import.meta.url': '__launcherUrl' },
  banner: { js: "#!/usr/bin/env node\n'use strict';\nconst __launcherUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
writeFileSync('dist/package.json', `${JSON.stringify({ type: 'commonjs' })}\n`);
chmodSync('dist/cli.js', 0o755);

const BUILD_ENV = {
  PATH: process.env.PATH ?? '',
  PROXMOX_HOST: '127.0.0.1',
  PROXMOX_PORT: '9',
  PROXMOX_TOKEN_ID: 'build@pve!cache',
  PROXMOX_TOKEN_SECRET: 'not-a-secret',
  PROXMOX_LOG_LEVEL: 'ERROR',
};

async function makeCodeCache(): Promise<void> {
  const child = spawn(process.execPath, ['dist/cli.js'], {
    env: { ...BUILD_ENV, PROXMOX_MCP_BUILD_CODE_CACHE: '1' },
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const send = (msg: object): void => {
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`);
  };
  send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'build', version: '0' } } });
  send({ method: 'notifications/initialized' });
  send({ id: 2, method: 'tools/list' });
  // A call too (it fails: nothing listens upstream), so the call path is in the cache as well.
  send({ id: 3, method: 'tools/call', params: { name: 'get_node_status', arguments: { node: 'pve1' } } });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0 || !existsSync('dist/server.cjs.cache')) process.stderr.write('build: no code cache made; the server will compile at start-up\n');
}

/** The full server's answers to initialize (asking for `version`) and to the first tools/list. */
async function record(version: string): Promise<{ initialize: string; tools: string }> {
  const child = spawn(process.execPath, ['dist/cli.js'], { env: { ...BUILD_ENV, PROXMOX_MCP_NO_FAST_START: '1' }, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const answers = new Map<number, string>();
  const done = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      for (let nl = out.indexOf('\n'); nl !== -1; nl = out.indexOf('\n')) {
        const msg = JSON.parse(out.slice(0, nl)) as { id?: number; result?: unknown };
        out = out.slice(nl + 1);
        if (msg.id !== undefined && msg.result !== undefined) answers.set(msg.id, JSON.stringify(msg.result));
        if (answers.size === 2) resolve();
      }
    });
    child.on('exit', () => {
      reject(new Error(`build: the server stopped before answering initialize and tools/list (${version})`));
    });
  });
  const send = (msg: object): void => {
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`);
  };
  send({ id: 1, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'build', version: '0' } } });
  send({ method: 'notifications/initialized' });
  send({ id: 2, method: 'tools/list' });
  await done;
  child.kill();
  return { initialize: answers.get(1) ?? '', tools: answers.get(2) ?? '' };
}

async function recordStartup(): Promise<void> {
  const versions = [...SUPPORTED_PROTOCOL_VERSIONS];
  const recorded = await Promise.all([...versions, 'unknown'].map(async (v) => [v, await record(v)] as const));
  const startup: Startup = { versions, fallback: '', initialize: {}, toolLists: [], tools: {} };
  for (const [asked, answer] of recorded) {
    const negotiated = (JSON.parse(answer.initialize) as { protocolVersion: string }).protocolVersion;
    if (asked === 'unknown') startup.fallback = negotiated;
    else if (negotiated !== asked) throw new Error(`build: asked for protocol ${asked}, the server answered ${negotiated}`);
    startup.initialize[negotiated] = answer.initialize;
    let index = startup.toolLists.indexOf(answer.tools);
    if (index === -1) index = startup.toolLists.push(answer.tools) - 1;
    startup.tools[negotiated] = index;
  }
  writeFileSync('dist/startup.json', JSON.stringify(startup));
}

await makeCodeCache();
await recordStartup();
