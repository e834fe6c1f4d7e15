// Bundles the server into dist/: one CommonJS bundle (server.cjs) with the compiled manifest inlined,
// the entry point (cli.js, src/cli/bin.ts) that runs it, and a V8 code cache made by starting the
// built server once and letting it answer initialize, tools/list and a call, so the functions
// start-up needs are already compiled (bench/README.md: what the cache saves).
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';

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
  // 'use strict' first: esbuild's own directive comes after the banner, where it is not a directive.
  banner: { js: "'use strict';\nconst __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// The entry point is CommonJS too (dist/package.json says so): an ES module entry point would load
// Node's ES module loader first, about 2 MB and a few milliseconds before the first answer.
await build({
  entryPoints: ['src/cli/bin.ts'],
  outfile: 'dist/cli.js',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: process.env.PROXMOX_MCP_BUILD_DEBUG !== '1',
  define: { 'import.meta.url': '__entryUrl' },
  banner: { js: "#!/usr/bin/env node\n'use strict';\nconst __entryUrl = require('node:url').pathToFileURL(__filename).href;" },
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

await makeCodeCache();
