// At start-up the server reads its token's privileges: anything beyond auditing is named with its
// path and the fix; PROXMOX_REQUIRE_READONLY_TOKEN=true turns that into a refusal to start.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { makeToken, PVE_AUDITOR, startFakeProxmox, auditorToken, type FakeProxmox } from './fake-proxmox/index.js';
import { CLI, call, connect, fakeEnv } from './support/mcp.js';
import { checkTokenPrivileges, describeExcess } from '../src/proxmox/token-check.js';
import { pve } from '../src/proxmox/api/pve.js';
import type { Upstream, UpstreamResult } from '../src/proxmox/client.js';

const POWER = (): ReturnType<typeof makeToken> =>
  makeToken('root@pam!mcp', { '/': { ...PVE_AUDITOR }, '/vms/100': { 'VM.PowerMgmt': 1, 'VM.Console': 1 } });

// The fake runs in this process, so the server must be awaited, never run with spawnSync.
function runCli(env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill(), 20_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function waitFor(read: () => string, re: RegExp, ms = 15_000): Promise<string> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const text = read();
    if (re.test(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  return read();
}

async function withFake(tokens: ReturnType<typeof makeToken>[], run: (fake: FakeProxmox) => Promise<void>): Promise<void> {
  const fake = await startFakeProxmox({ tokens });
  try {
    await run(fake);
  } finally {
    await fake.close();
  }
}

describe('token privileges at start-up', () => {
  it('warns about a token that can power guests, naming privilege, path and fix, and keeps serving', async () => {
    await withFake([POWER()], async (fake) => {
      const mcp = await connect(fakeEnv(fake));
      try {
        const stderr = await waitFor(mcp.stderr, /beyond read-only/);
        const line = stderr.split('\n').find((l) => l.includes('beyond read-only')) ?? '';
        expect(line).toMatch(/WARNING/);
        expect(line).toMatch(/\/vms\/100: VM\.Console, VM\.PowerMgmt/);
        expect(line).toMatch(/PVEAuditor/);
        expect(line).toMatch(/privilege separation/);
        expect(line).toContain(fake.tokenId);
        expect(stderr).not.toContain(fake.tokenSecret);
        expect((await call(mcp.client, 'get_nodes')).isError).toBe(false);
      } finally {
        await mcp.close();
      }
    });
  });

  it('PROXMOX_REQUIRE_READONLY_TOKEN=true refuses to start with such a token', async () => {
    await withFake([POWER()], async (fake) => {
      const r = await runCli(fakeEnv(fake, { PROXMOX_REQUIRE_READONLY_TOKEN: 'true' }));
      expect(r.status).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/refusing to start \(PROXMOX_REQUIRE_READONLY_TOKEN=true\).*VM\.PowerMgmt/);
      expect(r.stderr).not.toContain(fake.tokenSecret);
      // Nothing but the privilege check was asked for.
      expect(fake.requests.map((q) => q.path)).toEqual(['/api2/json/access/permissions']);
    });
  });

  it('names privileges from the host without their control, bidi or invisible characters, in the log and when refusing', async () => {
    const odd = (): ReturnType<typeof makeToken> => makeToken('ops@pve!odd', { '/\u001b]0;x\u0007': { ...PVE_AUDITOR, 'VM.\u001b[8mPowerMgmt\u202e\u200b': 1 } });
    for (const strict of ['true', 'false']) {
      await withFake([odd()], async (fake) => {
        const env = fakeEnv(fake, { PROXMOX_REQUIRE_READONLY_TOKEN: strict });
        const stderr = strict === 'true' ? (await runCli(env)).stderr : await (async () => {
          const mcp = await connect(env);
          try {
            return await waitFor(mcp.stderr, /beyond read-only/);
          } finally {
            await mcp.close();
          }
        })();
        expect(stderr).toMatch(/VM\.\[8mPowerMgmt/);
        // eslint-disable-next-line no-control-regex -- exactly what must not reach a terminal
        expect(stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e]/);
      });
    }
  });

  it('PROXMOX_REQUIRE_READONLY_TOKEN=true refuses to start when the privileges cannot be read', async () => {
    await withFake([auditorToken()], async (fake) => {
      const r = await runCli(fakeEnv(fake, { PROXMOX_REQUIRE_READONLY_TOKEN: 'true', PROXMOX_TOKEN_SECRET: 'wrong-secret' }));
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/could not read the token's privileges .*401.*refuses to start/);
    });
  });

  it('an auditor token: no warning, and the strict setting starts', async () => {
    await withFake([auditorToken()], async (fake) => {
      const mcp = await connect(fakeEnv(fake, { PROXMOX_LOG_LEVEL: 'DEBUG', PROXMOX_REQUIRE_READONLY_TOKEN: 'true' }));
      try {
        const stderr = await waitFor(mcp.stderr, /token privileges: read-only/);
        expect(stderr).toMatch(/token privileges: read-only/);
        expect(stderr).not.toMatch(/WARNING/);
        expect((await call(mcp.client, 'get_nodes')).isError).toBe(false);
      } finally {
        await mcp.close();
      }
    });
  });
});

function upstreamAnswering(result: UpstreamResult): Upstream {
  return { get: () => Promise.resolve(result), read: () => Promise.resolve(result), close: () => Promise.resolve() };
}

describe('checkTokenPrivileges', () => {
  it('counts only audit privileges and Sys.Syslog as read-only, and ignores revoked ones', async () => {
    const check = await checkTokenPrivileges(
      upstreamAnswering({ ok: true, data: { '/': { 'Sys.Audit': 1, 'Sys.Syslog': 1, 'VM.GuestAgent.Audit': 1, 'Sys.Modify': 0 }, '/storage': { 'Datastore.Allocate': '0' } } }),
      1000,
      pve,
    );
    expect(check).toMatchObject({ ok: true, excess: [] });
    expect(check.privileges?.holds('/nodes/pve1', 'Sys.Syslog')).toBe(true);
    expect(check.privileges?.holds('/', 'Sys.Modify')).toBe(false);
  });

  it('names every write privilege by path, sorted', async () => {
    const check = await checkTokenPrivileges(
      upstreamAnswering({ ok: true, data: { '/vms': { 'VM.Allocate': 1, 'VM.Audit': 1 }, '/': { 'Sys.Modify': 1, 'Permissions.Modify': 1 }, '/odd': 'x' } }),
      1000,
      pve,
    );
    expect(check.ok).toBe(false);
    expect(check.excess).toEqual(['/: Permissions.Modify, Sys.Modify', '/vms: VM.Allocate']);
    expect(describeExcess('a@pve!t', check.excess, pve)).toMatch(/^the token a@pve!t holds privileges beyond read-only auditing: \/: Permissions\.Modify/);
  });

  it('reports a failed read instead of passing', async () => {
    const check = await checkTokenPrivileges(upstreamAnswering({ ok: false, status: 403, kind: 'http', message: 'Permission check failed' }), 1000, pve);
    expect(check.ok).toBe(false);
    expect(check.error).toMatch(/403 Permission check failed/);
  });
});
