// Bundles the server into dist/: one CommonJS bundle (server.cjs) with the compiled manifest inlined,
// a small launcher (cli.js), and a V8 code cache made by starting the built server once and letting it
// answer initialize and tools/list, so the functions start-up needs are already compiled.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/server.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: process.env.PROXMOX_MCP_BUILD_DEBUG !== '1',
  legalComments: 'linked',
  sourcemap: 'linked',
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
copyFileSync('scripts/launcher.js', 'dist/cli.js');
chmodSync('dist/cli.js', 0o755);

async function makeCodeCache(): Promise<void> {
  const child = spawn(process.execPath, ['dist/cli.js'], {
    env: {
      PATH: process.env.PATH ?? '',
      PROXMOX_MCP_BUILD_CODE_CACHE: '1',
      PROXMOX_HOST: '127.0.0.1',
      PROXMOX_PORT: '9',
      PROXMOX_TOKEN_ID: 'build@pve!cache',
      PROXMOX_TOKEN_SECRET: 'not-a-secret',
      PROXMOX_LOG_LEVEL: 'ERROR',
    },
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const send = (msg: object): void => {
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`);
  };
  send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'build', version: '0' } } });
  send({ method: 'notifications/initialized' });
  send({ id: 2, method: 'tools/list' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0 || !existsSync('dist/server.cjs.cache')) process.stderr.write('build: no code cache made; the server will compile at start-up\n');
}
await makeCodeCache();
