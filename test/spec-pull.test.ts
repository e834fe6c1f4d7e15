import { createHash, X509Certificate } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { convertApidoc } from '../scripts/convert-apidoc.js';
import { pbs } from '../src/proxmox/api/pbs.js';
import { detectRelease, parseArgs, PINS, resolveSource, specPull, type PullIo } from '../scripts/spec-pull.js';
import { spawn } from 'node:child_process';
import { startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { CLI, fakeEnv } from './support/mcp.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(repo, 'test', 'fixtures', 'apidoc');
const reference = resolve(repo, '..', 'shared', 'proxmox-api');
const haveReference = existsSync(join(reference, 'apidoc-9.1.3.js')) && existsSync(join(reference, 'apidoc-8.4.0.js'));
if (!haveReference) console.warn(`reference apidoc files not found in ${reference}: the 9.1.3 <-> 8.4.0 pull test is skipped`);

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spec-pull-'));
  temps.push(dir);
  return dir;
}

function capture(env: NodeJS.ProcessEnv = {}): PullIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env,
    stdout: () => out,
    stderr: () => err,
  };
}

/** The error and its `cause` chain as plain records, for matching on codes and messages. */
function causes(error: unknown): { message: string; code?: unknown }[] {
  const out: { message: string; code?: unknown }[] = [];
  let current: unknown = error;
  while (current instanceof Error && out.length < 5) {
    out.push({ message: current.message, code: (current as { code?: unknown }).code });
    current = current.cause;
  }
  return out;
}

const read = (path: string): string => readFileSync(path, 'utf8');
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe.skipIf(!haveReference)('spec:pull between the reference releases', () => {
  it('reports 9.1.3 -> 8.4.0 and back, and the round trip restores the pin byte for byte', async () => {
    const root = tempDir();
    cpSync(join(repo, 'spec'), join(root, 'spec'), { recursive: true });
    // HA rules came with Proxmox VE 9: a manifest for 8.4 hosts has no get_ha_rules.
    const manifest = read(join(repo, 'tools.yaml'));
    const haRules = /\n {2}- name: get_ha_rules\n[^]*?\n(?=\n {2}- name: )/.exec(manifest)?.[0] ?? '';
    expect(haRules).toContain('/cluster/ha/rules');
    writeFileSync(join(root, 'tools.yaml'), manifest.replace(haRules, ''));
    const pinned = read(join(repo, 'spec', 'proxmox-ve.openapi.json'));
    const lock = read(join(repo, 'spec', 'proxmox-ve.lock.json'));

    const older = Object.keys(convertApidoc(read(join(reference, 'apidoc-8.4.0.js'))).document.paths as object);
    const newer = Object.keys(convertApidoc(read(join(reference, 'apidoc-9.1.3.js'))).document.paths as object);
    const onlyNewer = newer.filter((p) => !older.includes(p));
    const onlyOlder = older.filter((p) => !newer.includes(p));
    expect(onlyNewer.length).toBeGreaterThan(0);

    const down = capture();
    const from = join(reference, 'apidoc-8.4.0.js');
    expect(await specPull({ from, root, dryRun: false }, down)).toBe(0);
    const report = down.stdout();
    expect(report).toContain('Upgrade report: pve-docs 9.1.3 -> 8.4.0');
    expect(report).toContain(`GET paths: 327 -> 304 (${String(onlyOlder.length)} added, ${String(onlyNewer.length)} removed)`);
    expect(report).toContain(`    - ${onlyNewer[0] ?? ''}`);
    for (const added of onlyOlder.slice(0, 15)) expect(report).toContain(`    + ${added}`);
    expect(report).toMatch(/get_nodes\s+UNCHANGED\s+GET \/nodes\n/);
    expect(report).toMatch(/get_node_status\s+UNCHANGED\s+GET \/nodes\/\{node\}\/status\n/);
    expect(report).toMatch(/get_vms\s+CHANGED\s+GET \/cluster\/resources\n\s+answer fields removed: [^\n]*memhost/);
    expect(report).toMatch(/get_storage\s+CHANGED[^]*output names fields the new answer does not describe: shared/);
    expect(report).toContain('Result: no tool breaks.');

    const lockAfter = JSON.parse(read(join(root, 'spec', 'proxmox-ve.lock.json'))) as Record<string, unknown>;
    expect(lockAfter).toEqual({
      pveDocsRelease: '8.4.0',
      sourceSha256: sha256(from),
      origin: 'file:apidoc-8.4.0.js',
      getOperations: 304,
      converter: (JSON.parse(lock) as { converter: number }).converter,
    });
    const bindings = read(join(root, 'src', 'generated', 'proxmox-api.ts'));
    expect(bindings.startsWith('// Generated by scripts/bindings.ts')).toBe(true);
    expect(bindings).not.toContain(`"${onlyNewer[0] ?? ''}"`);

    const up = capture();
    expect(await specPull({ from: join(reference, 'apidoc-9.1.3.js'), root, dryRun: false }, up)).toBe(0);
    expect(up.stdout()).toContain('Upgrade report: pve-docs 8.4.0 -> 9.1.3');
    expect(up.stdout()).toContain(`GET paths: 304 -> 327 (${String(onlyNewer.length)} added, ${String(onlyOlder.length)} removed)`);
    expect(read(join(root, 'spec', 'proxmox-ve.openapi.json'))).toBe(pinned);
    expect(read(join(root, 'spec', 'proxmox-ve.lock.json'))).toBe(lock);
    expect(read(join(root, 'src', 'generated', 'proxmox-api.ts'))).toBe(read(join(repo, 'src', 'generated', 'proxmox-api.ts')));
  });
});

// Valid for the manifest compiler too: spec:pull re-validates tools.yaml before it writes.
const TOOLS = `version: 1
tools:
  - name: alpha_tool
    title: Alpha
    description: Every alpha row the fixture host lists.
    path: /alpha
    privilege: Sys.Audit
    output: { shape: list }
  - name: beta_tool
    title: Beta
    description: Every beta row of one node of the fixture host.
    path: /nodes/{node}/beta
    privilege: Sys.Audit
    params:
      node: {}
      max: { in: query, upstream: limit }
      kind: { in: filter, field: id }
    query: { type: storage }
    output: { shape: list, fields: [id, old] }
  - name: gamma_tool
    title: Gamma
    description: The one gamma record of the fixture host.
    path: /gamma
    privilege: Sys.Audit
    output: { shape: record }
`;

/** A temp root pinned to the hand-written "before" release. */
async function pinnedRoot(tools = TOOLS): Promise<string> {
  const root = tempDir();
  writeFileSync(join(root, 'tools.yaml'), tools);
  const io = capture();
  expect(await specPull({ from: join(fixtures, 'pull-before.apidoc'), release: '1.0.0', root, dryRun: false }, io)).toBe(0);
  return root;
}

function snapshot(root: string): string[] {
  return ['spec/proxmox-ve.openapi.json', 'spec/proxmox-ve.lock.json', 'src/generated/proxmox-api.ts'].map((f) => read(join(root, f)));
}

describe('spec:pull refuses an upgrade that breaks a tool', () => {
  it('flags a removed endpoint and a changed parameter type, and writes nothing', async () => {
    const root = await pinnedRoot();
    const before = snapshot(root);
    const io = capture();
    const code = await specPull({ from: join(fixtures, 'pull-after.apidoc'), release: '2.0.0', root, dryRun: false }, io);
    expect(code).toBe(1);
    const report = io.stdout();
    expect(report).toContain('Upgrade report: pve-docs 1.0.0 -> 2.0.0');
    expect(report).toContain('GET paths: 3 -> 3 (1 added, 1 removed)');
    expect(report).toContain('    + /delta');
    expect(report).toContain('    - /alpha');
    expect(report).toMatch(/alpha_tool\s+BROKEN\s+GET \/alpha\n\s+endpoint gone\n/);
    expect(report).toMatch(/beta_tool\s+BROKEN\s+GET \/nodes\/\{node\}\/beta\n\s+query parameter limit: type "integer" -> "string" \(incompatible\)\n/);
    expect(report).toContain('query parameter limit: minimum 0 -> none');
    expect(report).toContain('query parameter type: enum values added "node"');
    expect(report).toContain('output names fields the new answer does not describe: old');
    expect(report).toMatch(/gamma_tool\s+UNCHANGED\s+GET \/gamma\n/);
    expect(report).toContain('Result: 2 tool(s) would break: alpha_tool, beta_tool.');
    expect(io.stderr()).toContain('nothing was written');
    expect(snapshot(root)).toEqual(before);
  });

  it('flags a parameter the tool sends that is gone, and a fixed value no longer accepted', async () => {
    const root = await pinnedRoot();
    const before = snapshot(root);
    const dir = tempDir();
    const after = read(join(fixtures, 'pull-before.apidoc'))
      .replace(/"limit" : \{[^}]*\},/, '')
      .replace('"enum" : [ "vm", "storage" ]', '"enum" : [ "vm" ]');
    writeFileSync(join(dir, 'apidoc-3.0.0.js'), after);
    const io = capture();
    expect(await specPull({ from: join(dir, 'apidoc-3.0.0.js'), root, dryRun: false }, io)).toBe(1);
    expect(io.stdout()).toContain('Upgrade report: pve-docs 1.0.0 -> 3.0.0');
    expect(io.stdout()).toContain('query parameter limit gone');
    expect(io.stdout()).toContain('query parameter type: the fixed value "storage" is no longer accepted');
    expect(io.stdout()).toMatch(/alpha_tool\s+UNCHANGED/);
    expect(snapshot(root)).toEqual(before);
  });

  it('flags a newly required parameter the tool does not send', async () => {
    const root = await pinnedRoot();
    const dir = tempDir();
    const gammaRequired = read(join(fixtures, 'pull-before.apidoc')).replace(
      '"name" : "gamma", "parameters" : {}',
      '"name" : "gamma", "parameters" : { "properties" : { "since" : { "type" : "integer" } } }',
    );
    expect(gammaRequired).toContain('"since"');
    writeFileSync(join(dir, 'apidoc-4.0.0.js'), gammaRequired);
    const io = capture();
    expect(await specPull({ from: join(dir, 'apidoc-4.0.0.js'), root, dryRun: true }, io)).toBe(1);
    expect(io.stdout()).toMatch(/gamma_tool\s+BROKEN\s+GET \/gamma\n\s+query parameter since is newly required and the tool does not send it/);
  });

  it('a dry run reports but writes nothing', async () => {
    const root = await pinnedRoot();
    const before = snapshot(root);
    const io = capture();
    const ok = read(join(fixtures, 'pull-before.apidoc')).replace('"minimum" : 0', '"minimum" : 1');
    const dir = tempDir();
    writeFileSync(join(dir, 'apidoc-1.0.1.js'), ok);
    expect(await specPull({ from: join(dir, 'apidoc-1.0.1.js'), root, dryRun: true }, io)).toBe(0);
    expect(io.stdout()).toMatch(/beta_tool\s+CHANGED[^]*query parameter limit: minimum 0 -> 1/);
    expect(io.stdout()).toContain('dry run: nothing was written.');
    expect(snapshot(root)).toEqual(before);
  });
});

describe('spec:pull arguments', () => {
  it('parses the options and resolves the three source forms', () => {
    expect(parseArgs(['--from', 'pve1', '--release', '9.1.3', '--dry-run'])).toMatchObject({ from: 'pve1', release: '9.1.3', dryRun: true });
    expect(() => parseArgs([])).toThrow(/--from/);
    expect(() => parseArgs(['--from'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--from', 'x', '--bogus'])).toThrow(/unknown argument/);
    expect(resolveSource('pve1.example.com')).toEqual({ kind: 'url', url: new URL('https://pve1.example.com:8006/pve-docs/api-viewer/apidoc.js') });
    expect(resolveSource('10.0.0.5:443')).toEqual({ kind: 'url', url: new URL('https://10.0.0.5:443/pve-docs/api-viewer/apidoc.js') });
    expect(resolveSource('https://mirror.example/apidoc-9.1.3.js')).toMatchObject({ kind: 'url' });
    expect(() => resolveSource('http://pve1:8006/apidoc.js')).toThrow(/https/);
    expect(resolveSource(join(fixtures, 'quirks.apidoc'))).toEqual({ kind: 'file', path: join(fixtures, 'quirks.apidoc') });
  });

  it('takes --api pbs, whose hosts serve the schema on port 8007 under /docs/', () => {
    expect(parseArgs(['--api', 'pbs', '--from', 'pbs1'])).toMatchObject({ api: 'pbs', from: 'pbs1' });
    // Without --api, PROXMOX_SERVICE decides, as it does for the server.
    expect(parseArgs(['--from', 'pve1']).api).toBeUndefined();
    expect(() => parseArgs(['--api', 'pmg', '--from', 'x'])).toThrow(/pve or pbs/);
    expect(resolveSource('pbs1.example.com', pbs)).toEqual({ kind: 'url', url: new URL('https://pbs1.example.com:8007/docs/api-viewer/apidoc.js') });
    expect(detectRelease({ kind: 'file', path: '/x/apidoc-2026-07.js' }, undefined, PINS.pbs)).toBe('2026-07');
    expect(detectRelease({ kind: 'file', path: '/x/apidoc-4.0.14.js' }, undefined, PINS.pbs)).toBe('4.0.14');
    expect(detectRelease({ kind: 'file', path: '/x/apidoc-2026-07.js' }, undefined, PINS.pve)).toBeUndefined();
  });
});

const backupReference = resolve(repo, '..', 'shared', 'proxmox-backup-api');
const haveBackupReference = existsSync(join(backupReference, 'apidoc-2025-08.js')) && existsSync(join(backupReference, 'apidoc-2026-07.js'));

describe.skipIf(!haveBackupReference)('spec:pull --api pbs between the reference files', () => {
  it('reports 2026-07 -> 2025-08 for every tool of tools-pbs.yaml, and the way back restores the pin', async () => {
    const root = tempDir();
    cpSync(join(repo, 'spec'), join(root, 'spec'), { recursive: true });
    cpSync(join(repo, 'tools-pbs.yaml'), join(root, 'tools-pbs.yaml'));
    const pinned = read(join(repo, 'spec', 'proxmox-backup.openapi.json'));
    const lock = read(join(repo, 'spec', 'proxmox-backup.lock.json'));
    const pvePin = read(join(repo, 'spec', 'proxmox-ve.openapi.json'));

    const older = Object.keys(convertApidoc(read(join(backupReference, 'apidoc-2025-08.js')), { api: 'pbs' }).document.paths as object);
    const newer = Object.keys(convertApidoc(read(join(backupReference, 'apidoc-2026-07.js')), { api: 'pbs' }).document.paths as object);
    const onlyNewer = newer.filter((p) => !older.includes(p));
    const onlyOlder = older.filter((p) => !newer.includes(p));
    expect(onlyNewer.length).toBeGreaterThan(0);

    const down = capture();
    const from = join(backupReference, 'apidoc-2025-08.js');
    expect(await specPull({ api: 'pbs', from, root, dryRun: false }, down)).toBe(0);
    const report = down.stdout();
    expect(report).toContain('Upgrade report: Proxmox Backup Server 2026-07 -> 2025-08');
    expect(report).toContain(`GET paths: 185 -> 183 (${String(onlyOlder.length)} added, ${String(onlyNewer.length)} removed)`);
    for (const gone of onlyNewer) expect(report).toContain(`    - ${gone}`);
    const tools = [...read(join(repo, 'tools-pbs.yaml')).matchAll(/^ {2}- name: (\w+)$/gm)].map((m) => m[1] ?? '');
    expect(tools.length).toBeGreaterThan(10);
    for (const name of tools) expect(report).toMatch(new RegExp(`${name}\\s+(UNCHANGED|CHANGED)\\s+GET /`));
    expect(report).toContain('tools-pbs.yaml compiles against the new spec.');
    expect(report).toContain('Result: no tool breaks.');
    const lockAfter = JSON.parse(read(join(root, 'spec', 'proxmox-backup.lock.json'))) as Record<string, unknown>;
    expect(lockAfter).toMatchObject({ release: '2025-08', sourceSha256: sha256(from), origin: 'file:apidoc-2025-08.js', getOperations: 183 });
    expect(read(join(root, 'src', 'generated', 'proxmox-backup-api.ts'))).toContain('from spec/proxmox-backup.openapi.json');
    // The Proxmox VE pin is not touched by a Proxmox Backup Server pull.
    expect(read(join(root, 'spec', 'proxmox-ve.openapi.json'))).toBe(pvePin);

    const up = capture();
    expect(await specPull({ api: 'pbs', from: join(backupReference, 'apidoc-2026-07.js'), root, dryRun: false }, up)).toBe(0);
    expect(up.stdout()).toContain('Upgrade report: Proxmox Backup Server 2025-08 -> 2026-07');
    expect(read(join(root, 'spec', 'proxmox-backup.openapi.json'))).toBe(pinned);
    expect(read(join(root, 'spec', 'proxmox-backup.lock.json'))).toBe(lock);
    expect(read(join(root, 'src', 'generated', 'proxmox-backup-api.ts'))).toBe(read(join(repo, 'src', 'generated', 'proxmox-backup-api.ts')));
  });

  it('takes the API from PROXMOX_SERVICE when --api is not given', async () => {
    const root = tempDir();
    cpSync(join(repo, 'spec'), join(root, 'spec'), { recursive: true });
    cpSync(join(repo, 'tools-pbs.yaml'), join(root, 'tools-pbs.yaml'));
    const io = capture({ PROXMOX_SERVICE: 'PBS' });
    expect(await specPull({ from: join(backupReference, 'apidoc-2026-07.js'), root, dryRun: true }, io)).toBe(0);
    expect(io.stdout()).toContain('Upgrade report: Proxmox Backup Server 2026-07 -> 2026-07');
    expect(io.stdout()).toContain('GET paths: 185 -> 185 (0 added, 0 removed)');
    expect(io.stdout()).toContain('dry run: nothing was written.');
  });
});

describe('spec:pull from a host over TLS', () => {
  let server: Server;
  let port = 0;
  let certFile = '';
  let fingerprint = '';
  const requests: string[] = [];

  beforeAll(async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'spec-pull-tls-'));
    temps.push(dir);
    certFile = join(dir, 'cert.pem');
    writeFileSync(certFile, pems.cert);
    fingerprint = new X509Certificate(pems.cert).fingerprint256;
    const body = read(join(fixtures, 'pull-before.apidoc'));
    server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
      requests.push(req.url ?? '');
      if (req.method === 'GET' && req.url === '/pve-docs/api-viewer/apidoc.js') {
        res.writeHead(200, { 'content-type': 'application/javascript' });
        res.end(body);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((done) => {
      server.listen(0, '127.0.0.1', done);
    });
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((done) => {
      server.close(() => {
        done();
      });
    });
  });

  it('fetches host:port with the CA from PROXMOX_SSL_CERT', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'spec'));
    writeFileSync(join(root, 'tools.yaml'), TOOLS);
    const io = capture({ PROXMOX_SSL_CERT: certFile });
    expect(await specPull({ from: `127.0.0.1:${String(port)}`, release: '1.0.0', root, dryRun: false }, io)).toBe(0);
    expect(requests).toContain('/pve-docs/api-viewer/apidoc.js');
    const lock = JSON.parse(read(join(root, 'spec', 'proxmox-ve.lock.json'))) as Record<string, unknown>;
    expect(lock).toMatchObject({
      pveDocsRelease: '1.0.0',
      origin: `https://127.0.0.1:${String(port)}/pve-docs/api-viewer/apidoc.js`,
      getOperations: 3,
      sourceSha256: sha256(join(fixtures, 'pull-before.apidoc')),
    });
  });

  it('trusts a pinned fingerprint instead, and pins as "unknown" without --release', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'tools.yaml'), TOOLS);
    const io = capture({ PROXMOX_TLS_FINGERPRINT: fingerprint });
    expect(await specPull({ from: `127.0.0.1:${String(port)}`, root, dryRun: false }, io)).toBe(0);
    expect(io.stderr()).toContain('Pass --release');
    const lock = JSON.parse(read(join(root, 'spec', 'proxmox-ve.lock.json'))) as Record<string, unknown>;
    expect(lock.pveDocsRelease).toBe('unknown');
  });

  it('refuses an untrusted certificate and a wrong fingerprint, writing nothing', async () => {
    const root = tempDir();
    const untrusted = await specPull({ from: `127.0.0.1:${String(port)}`, release: '1.0.0', root, dryRun: false }, capture()).catch(
      (error: unknown) => error,
    );
    expect(JSON.stringify(causes(untrusted))).toMatch(/SELF_SIGNED|self.signed/i);
    const wrong = capture({ PROXMOX_TLS_FINGERPRINT: 'AA:'.repeat(31) + 'AA' });
    const mismatch = await specPull({ from: `127.0.0.1:${String(port)}`, release: '1.0.0', root, dryRun: false }, wrong).catch(
      (error: unknown) => error,
    );
    expect(JSON.stringify(causes(mismatch))).toContain('ERR_TLS_FINGERPRINT_MISMATCH');
    expect(existsSync(join(root, 'spec', 'proxmox-ve.openapi.json'))).toBe(false);
  });
});

// The same TLS settings, given to spec:pull and to the server (its doctor), against the same fake
// host: each either trusts the host or refuses it, and both do the same.
describe('spec:pull trusts a host exactly as the server does', () => {
  let fake: FakeProxmox;
  beforeAll(async () => {
    fake = await startFakeProxmox({ apidocPath: join(fixtures, 'pull-before.apidoc') });
  });
  afterAll(async () => {
    await fake.close();
  });

  /** The server's verdict on TLS, from `proxmox-mcp doctor` (exit 0 and a passed tls check). */
  function serverTrusts(env: Record<string, string>): Promise<{ trusts: boolean; stderr: string }> {
    const base = Object.fromEntries(Object.entries(fakeEnv(fake)).filter(([k]) => k !== 'PROXMOX_SSL_CERT' && k !== 'PROXMOX_VERIFY_SSL'));
    return new Promise((done) => {
      const child = spawn(process.execPath, [CLI, 'doctor'], { env: { ...base, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('exit', () => {
        done({ trusts: /^PASS\s+tls\s+certificate accepted/m.test(stderr), stderr });
      });
    });
  }

  async function pullTrusts(env: Record<string, string>): Promise<{ trusts: boolean; error: string; stderr: string }> {
    const io = capture(env);
    try {
      const code = await specPull({ from: `https://127.0.0.1:${String(fake.port)}`, release: '1.0.0', root: tempDir(), dryRun: true }, io);
      return { trusts: code === 0, error: '', stderr: io.stderr() };
    } catch (error) {
      return { trusts: false, error: JSON.stringify(causes(error)), stderr: io.stderr() };
    }
  }

  it('with a pinned fingerprint, in either spelling, and no CA', async () => {
    for (const fingerprint of [fake.fingerprint, fake.fingerprint.replace(/:/g, '').toLowerCase()]) {
      const env = { PROXMOX_TLS_FINGERPRINT: fingerprint };
      const pull = await pullTrusts(env);
      expect(pull.trusts).toBe(true);
      expect((await serverTrusts(env)).trusts).toBe(true);
    }
    expect(fake.requests.some((r) => r.path === '/pve-docs/api-viewer/apidoc.js')).toBe(true);
  });

  it('with PROXMOX_VERIFY_SSL=false (or off), with a warning', async () => {
    for (const value of ['false', 'off']) {
      const env = { PROXMOX_VERIFY_SSL: value };
      const pull = await pullTrusts(env);
      expect(pull.trusts).toBe(true);
      expect(pull.stderr).toMatch(/PROXMOX_VERIFY_SSL=false: the certificate is NOT verified/);
      expect((await serverTrusts(env)).trusts).toBe(true);
    }
  });

  it('refuses the host without a CA, with a wrong fingerprint, and refuses settings the server refuses', async () => {
    for (const env of [{}, { PROXMOX_TLS_FINGERPRINT: 'AA:'.repeat(31) + 'AA' }]) {
      expect((await pullTrusts(env)).trusts).toBe(false);
      expect((await serverTrusts(env)).trusts).toBe(false);
    }
    for (const [env, message] of [
      [{ PROXMOX_VERIFY_SSL: 'flase' }, /PROXMOX_VERIFY_SSL must be true or false/],
      [{ PROXMOX_TLS_FINGERPRINT: 'AB:CD' }, /PROXMOX_TLS_FINGERPRINT must be a SHA-256 fingerprint/],
      [{ PROXMOX_SSL_CERT: join(tmpdir(), 'no-such-ca.pem') }, /PROXMOX_SSL_CERT: cannot read the CA file/],
    ] as const) {
      const pull = await pullTrusts(env);
      expect(pull.trusts).toBe(false);
      expect(pull.error).toMatch(message);
      expect((await serverTrusts(env)).stderr).toMatch(message);
    }
  });
});
