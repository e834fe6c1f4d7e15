// `proxmox-mcp doctor` against the fake: one verdict per check, a clear failure for each broken
// setup, exit code 0 only when nothing failed, and never the secret.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditorToken, makeCluster, makeToken, PVE_AUDITOR, startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { CLI, fakeEnv } from './support/mcp.js';
import { pbsToken, startFakePbs, type FakePbs } from './fake-pbs/index.js';

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

// The fake answers from this process: the doctor runs asynchronously so the event loop keeps turning.
function doctor(env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'doctor'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill(), 25_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

// Each line is "VERDICT  check-name-padded-to-18 detail".
function verdicts(stderr: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stderr.split('\n')) {
    const verdict = /^(PASS|WARN|FAIL) {2}/.exec(line)?.[1];
    if (verdict !== undefined) out[line.slice(6, 24).trim()] = verdict;
  }
  return out;
}
const POWER = makeToken('ops@pve!wide', { '/': { ...PVE_AUDITOR, 'VM.PowerMgmt': 1 } });

describe('proxmox-mcp doctor', () => {
  let fake: FakeProxmox;
  beforeAll(async () => {
    fake = await startFakeProxmox({ tokens: [auditorToken(), POWER] });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('a good setup: every check passes and the exit code is 0', async () => {
    const r = await doctor(fakeEnv(fake));
    expect(r.stdout).toBe('');
    const v = verdicts(r.stderr);
    expect(Object.keys(v).slice(0, 7)).toEqual(['configuration', 'tls mode', 'reachability', 'tls', 'authentication', 'release', 'token privileges']);
    expect(Object.entries(v).filter(([k]) => k !== 'release' && !k.startsWith('toolset ')).every(([, verdict]) => verdict === 'PASS')).toBe(true);
    // PVEAuditor lacks Sys.Modify (pending updates) and Sys.Syslog (cluster log): a warning each, never a failure.
    expect(Object.keys(v).filter((k) => k.startsWith('toolset '))).toHaveLength(11);
    expect(v['toolset nodes']).toBe('WARN');
    expect(r.stderr).toMatch(/toolset nodes +\d+ of \d+ usable \(get_nodes, [^)]*\); not usable: [^:\n]*get_node_updates: grant [^\n]*Sys\.Modify on \/nodes\/\{node\}/);
    // The fake may run another release than the pinned one: that is a warning, never a failure.
    expect(v.release).toMatch(/^(PASS|WARN)$/);
    expect(r.stderr).toMatch(/verdict: ready/);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain(fake.tokenSecret);
  });

  it('a wrong secret fails authentication clearly, exit 1, secret not shown', async () => {
    const secret = 'c0ffee00-dead-beef-0000-123456789abc';
    const r = await doctor(fakeEnv(fake, { PROXMOX_TOKEN_SECRET: secret }));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^FAIL\s+authentication\s+HTTP 401 .*check PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET/m);
    expect(r.stderr).not.toContain(secret);
  });

  it('a token with power privileges warns (exit 0), and fails with PROXMOX_REQUIRE_READONLY_TOKEN=true (exit 1)', async () => {
    const env = fakeEnv(fake, { PROXMOX_TOKEN_ID: POWER.id, PROXMOX_TOKEN_SECRET: POWER.secret });
    const warn = await doctor(env);
    expect(warn.stderr).toMatch(/^WARN\s+token privileges\s+.*\/: VM\.PowerMgmt.*PVEAuditor/m);
    expect(warn.status).toBe(0);
    const strict = await doctor({ ...env, PROXMOX_REQUIRE_READONLY_TOKEN: 'true' });
    expect(strict.stderr).toMatch(/^FAIL\s+token privileges/m);
    expect(strict.stderr).toMatch(/verdict: problems found/);
    expect(strict.status).toBe(1);
  });

  it('privileges that cannot be read warn (exit 0), and fail with PROXMOX_REQUIRE_READONLY_TOKEN=true, as start-up refuses', async () => {
    fake.setFault('/access/permissions', { kind: 'status', status: 500, reason: 'Internal Server Error' });
    try {
      const warn = await doctor(fakeEnv(fake));
      expect(warn.stderr).toMatch(/^WARN\s+token privileges\s+could not be read/m);
      expect(warn.status).toBe(0);
      const strict = await doctor(fakeEnv(fake, { PROXMOX_REQUIRE_READONLY_TOKEN: 'true' }));
      expect(strict.stderr).toMatch(/^FAIL\s+token privileges\s+could not be read/m);
      expect(strict.status).toBe(1);
    } finally {
      fake.clearFaults();
    }
  });

  it('an unreachable port fails reachability', async () => {
    const r = await doctor(fakeEnv(fake, { PROXMOX_PORT: String(await closedPort()) }));
    expect(r.stderr).toMatch(/^FAIL\s+reachability\s+.*connection refused.*check PROXMOX_HOST, PROXMOX_PORT/m);
    expect(r.status).toBe(1);
  });

  it('an unverifiable certificate fails the tls check', async () => {
    const env = Object.fromEntries(Object.entries(fakeEnv(fake)).filter(([k]) => k !== 'PROXMOX_SSL_CERT'));
    const r = await doctor(env);
    expect(r.stderr).toMatch(/^FAIL\s+tls\s+.*PROXMOX_TLS_FINGERPRINT/m);
    expect(r.status).toBe(1);
  });

  it('a pinned fingerprint passes; insecure mode is a warning', async () => {
    const env = Object.fromEntries(Object.entries(fakeEnv(fake)).filter(([k]) => k !== 'PROXMOX_SSL_CERT'));
    const pinned = await doctor({ ...env, PROXMOX_TLS_FINGERPRINT: fake.fingerprint });
    expect(pinned.stderr).toMatch(/^PASS\s+tls mode\s+certificate pinned/m);
    expect(pinned.status).toBe(0);
    const insecure = await doctor({ ...env, PROXMOX_VERIFY_SSL: 'false' });
    expect(insecure.stderr).toMatch(/^WARN\s+tls mode\s+PROXMOX_VERIFY_SSL=false/m);
    expect(insecure.status).toBe(0);
  });

  it('a hanging host fails within the request timeout', async () => {
    fake.setFault('/version', { kind: 'hang' });
    try {
      const r = await doctor(fakeEnv(fake, { PROXMOX_TIMEOUT_MS: '1000' }));
      expect(r.stderr).toMatch(/^FAIL\s+reachability\s+timed out/m);
      expect(r.status).toBe(1);
    } finally {
      fake.clearFaults();
    }
  });

  it('bad configuration fails the configuration check and stops', async () => {
    const r = await doctor({ PATH: process.env.PATH ?? '', PROXMOX_HOST: 'https://x' });
    expect(r.stderr).toMatch(/^FAIL\s+configuration\s+PROXMOX_HOST must be a host name/m);
    expect(verdicts(r.stderr)).toEqual({ configuration: 'FAIL' });
    expect(r.status).toBe(1);
  });

  it('a token ID holding the secret is refused without printing it', async () => {
    for (const tokenId of [`${fake.tokenId}=${fake.tokenSecret}`, `PVEAPIToken=${fake.tokenId}=${fake.tokenSecret}`]) {
      const r = await doctor(fakeEnv(fake, { PROXMOX_TOKEN_ID: tokenId }));
      expect(r.stderr).toMatch(/^FAIL\s+configuration\s+PROXMOX_TOKEN_ID /m);
      expect(r.stderr).not.toContain(fake.tokenSecret.slice(0, 8));
      expect(r.stderr).not.toContain(fake.tokenSecret.slice(-8));
      expect(r.status).toBe(1);
    }
  });
});

describe('proxmox-mcp doctor with a hostile host', () => {
  // Privilege names, paths and the version come from the host: none of their control characters may
  // reach the terminal (ESC [8m would hide the warning that follows it).
  const HOSTILE = makeToken('ops@pve!odd', { '/\u001b]0;title\u0007': { ...PVE_AUDITOR, 'VM.\u001b[8mPowerMgmt\u202e': 1 } });
  let fake: FakeProxmox;
  beforeAll(async () => {
    const cluster = makeCluster();
    cluster.version = { ...cluster.version, version: '9.1.1\u001b[2J\u0007\u202e' };
    fake = await startFakeProxmox({ tokens: [HOSTILE], cluster });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('prints privileges and the version without control, bidi or invisible characters', async () => {
    const r = await doctor(fakeEnv(fake));
    expect(r.stderr).toMatch(/^WARN\s+token privileges\s+the token ops@pve!odd holds .*VM\.\[8mPowerMgmt/m);
    expect(r.stderr).toMatch(/Proxmox VE 9\.1\.1\[2J/);
    // eslint-disable-next-line no-control-regex -- exactly what must not reach a terminal
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e]/);
  });
});

/** A port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('proxmox-mcp doctor for Proxmox Backup Server', () => {
  let fake: FakePbs;
  const wide = pbsToken('ops@pbs!wide', { '/': { 'Sys.Audit': 1, 'Datastore.Audit': 1, 'Datastore.Prune': 1 } });
  beforeAll(async () => {
    fake = await startFakePbs({ tokens: [pbsToken(), wide] });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('a good setup with a PBSAPIToken: every check passes', async () => {
    const r = await doctor(fakeEnv(fake, { PROXMOX_SERVICE: 'PBS' }));
    const v = verdicts(r.stderr);
    expect(v).toEqual({
      configuration: 'PASS',
      'tls mode': 'PASS',
      reachability: 'PASS',
      tls: 'PASS',
      authentication: 'PASS',
      release: 'PASS',
      'token privileges': 'PASS',
      // Judged on the Backup Server's own ACL tree, toolset by toolset.
      'toolset backup': 'PASS',
      'toolset nodes': 'PASS',
      'toolset storage': 'PASS',
      'toolset tasks': 'PASS',
    });
    expect(r.stderr).toMatch(/Proxmox Backup Server 4\.0\.14; API pinned from the schema file of 2026-07 \("npm run spec:pull -- --api pbs --from 127\.0\.0\.1"/);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain(fake.tokenSecret);
    expect(fake.requests.every((q) => q.headers.authorization === `PBSAPIToken=${fake.tokenId}:${fake.tokenSecret}`)).toBe(true);
  });

  it('names a privilege beyond auditing, and the PBS grant to use instead', async () => {
    const r = await doctor(fakeEnv(fake, { PROXMOX_SERVICE: 'PBS', PROXMOX_TOKEN_ID: wide.id, PROXMOX_TOKEN_SECRET: wide.secret, PROXMOX_REQUIRE_READONLY_TOKEN: 'true' }));
    expect(verdicts(r.stderr)['token privileges']).toBe('FAIL');
    expect(r.stderr).toMatch(/\/: Datastore\.Prune.*the Audit role on \//);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toContain(wide.secret);
  });
});
