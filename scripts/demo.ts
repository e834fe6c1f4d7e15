// `npm run demo [-- pbs]`: the built server talking to a fake Proxmox VE cluster (or, with `pbs`, a
// fake Proxmox Backup Server) on loopback, so an MCP client can try every tool without a real host.
// One server process speaks to one API. stdin/stdout belong to the server (the MCP protocol); this
// script writes one line to stderr and nothing else.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startFakePbs } from '../test/fake-pbs/index.js';
import { startFakeProxmox } from '../test/fake-proxmox/index.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error(`demo: ${cli} is missing; run "npm run build" first`);
  process.exit(1);
}

const api = (process.argv[2] ?? 'pve').toLowerCase();
if (api !== 'pve' && api !== 'pbs') {
  console.error(`demo: unknown API "${api}"; use "npm run demo" (Proxmox VE) or "npm run demo -- pbs" (Proxmox Backup Server)`);
  process.exit(2);
}
const fake = api === 'pbs' ? await startFakePbs() : await startFakeProxmox();
console.error(
  api === 'pbs'
    ? `proxmox-mcp demo: the server is talking to a FAKE Proxmox Backup Server at ${fake.url} (2 datastores, jobs, tasks), not a real host`
    : `proxmox-mcp demo: the server is talking to a FAKE Proxmox VE cluster at ${fake.url} (3 nodes, pve3 offline), not a real host; "npm run demo -- pbs" serves a fake Proxmox Backup Server`,
);

const env: NodeJS.ProcessEnv = { ...process.env };
// Settings from the caller's shell must not point the demo at a real host or weaken TLS.
for (const key of Object.keys(env)) if (key.startsWith('PROXMOX_')) Reflect.deleteProperty(env, key);
Object.assign(env, {
  PROXMOX_HOST: fake.host,
  PROXMOX_PORT: String(fake.port),
  PROXMOX_TOKEN_ID: fake.tokenId,
  PROXMOX_TOKEN_SECRET: fake.tokenSecret,
  PROXMOX_SSL_CERT: fake.caFile,
  PROXMOX_VERIFY_SSL: 'true',
  PROXMOX_SERVICE: api.toUpperCase(),
});

const child = spawn(process.execPath, [cli], { stdio: 'inherit', env });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    child.kill(signal);
  });
}

child.on('error', (error) => {
  console.error(`demo: could not start the server: ${error.message}`);
  void fake.close().then(() => process.exit(1));
});

child.on('exit', (code, signal) => {
  void fake.close().then(() => {
    process.exit(code ?? (signal === null ? 1 : 128 + (signal === 'SIGINT' ? 2 : 15)));
  });
});
