// How the server trusts the Proxmox host: a CA file, a pinned fingerprint (no CA needed), or, with a
// loud warning, no verification. A certificate that does not fit is refused before the token is sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { call, connect, fakeEnv, type Connected } from './support/mcp.js';
import { normaliseFingerprint } from '../src/proxmox/http.js';

const OTHER_FINGERPRINT = Array.from({ length: 32 }, () => 'AB').join(':');

function withoutCa(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'PROXMOX_SSL_CERT'));
}

async function withServer(env: Record<string, string>, run: (mcp: Connected) => Promise<void>): Promise<void> {
  const mcp = await connect(env);
  try {
    await run(mcp);
  } finally {
    await mcp.close();
  }
}

describe('TLS against the self-signed fake', () => {
  let fake: FakeProxmox;
  let wrong: FakeProxmox;
  beforeAll(async () => {
    fake = await startFakeProxmox();
    wrong = await startFakeProxmox({ tls: { wrongCertificate: true } });
  });
  afterAll(async () => {
    await fake.close();
    await wrong.close();
  });

  it('verifies against the CA file', async () => {
    await withServer(fakeEnv(fake), async (mcp) => {
      const r = await call(mcp.client, 'get_nodes');
      expect(r.isError, r.text).toBe(false);
    });
  });

  it('without a CA file and with verification on, the self-signed host is refused and no token is sent', async () => {
    const before = fake.requests.length;
    await withServer(withoutCa(fakeEnv(fake)), async (mcp) => {
      const r = await call(mcp.client, 'get_nodes');
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/TLS certificate was not accepted .*PROXMOX_SSL_CERT .*PROXMOX_TLS_FINGERPRINT/);
    });
    expect(fake.requests.length).toBe(before);
  });

  it('pins the fingerprint without a CA file', async () => {
    await withServer({ ...withoutCa(fakeEnv(fake)), PROXMOX_TLS_FINGERPRINT: fake.fingerprint }, async (mcp) => {
      const r = await call(mcp.client, 'get_node_status', { node: 'pve1' });
      expect(r.isError, r.text).toBe(false);
      expect(mcp.stderr()).not.toMatch(/NOT verified/);
    });
  });

  it('accepts the fingerprint in lower case and without colons', async () => {
    const plain = fake.fingerprint.replace(/:/g, '').toLowerCase();
    expect(normaliseFingerprint(`sha256/${fake.fingerprint}`)).toBe(plain);
    await withServer({ ...withoutCa(fakeEnv(fake)), PROXMOX_TLS_FINGERPRINT: plain }, async (mcp) => {
      expect((await call(mcp.client, 'get_nodes')).isError).toBe(false);
    });
  });

  it('refuses a host whose certificate does not match the pinned fingerprint, and sends nothing', async () => {
    const before = fake.requests.length;
    await withServer({ ...withoutCa(fakeEnv(fake)), PROXMOX_TLS_FINGERPRINT: OTHER_FINGERPRINT }, async (mcp) => {
      const r = await call(mcp.client, 'get_nodes');
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/TLS certificate was not accepted \(the certificate does not match PROXMOX_TLS_FINGERPRINT\)/);
      // The next call is refused the same way: no session resumption skips the check.
      const again = await call(mcp.client, 'get_nodes');
      expect(again.isError).toBe(true);
    });
    expect(fake.requests.length).toBe(before);
  });

  it('a pinned fingerprint is not loosened by PROXMOX_VERIFY_SSL=false', async () => {
    await withServer({ ...withoutCa(fakeEnv(fake)), PROXMOX_VERIFY_SSL: 'false', PROXMOX_TLS_FINGERPRINT: OTHER_FINGERPRINT }, async (mcp) => {
      const r = await call(mcp.client, 'get_nodes');
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/PROXMOX_TLS_FINGERPRINT/);
    });
  });

  it('refuses a certificate signed by another CA than the configured one', async () => {
    const before = wrong.requests.length;
    await withServer(fakeEnv(wrong), async (mcp) => {
      const r = await call(mcp.client, 'get_nodes');
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/TLS certificate was not accepted \([A-Z_]+\)/);
      // The server keeps serving: the next call gets the same clear answer.
      expect((await call(mcp.client, 'get_node_status', { node: 'pve1' })).text).toMatch(/TLS certificate was not accepted/);
    });
    expect(wrong.requests.length).toBe(before);
  });

  it('PROXMOX_VERIFY_SSL=false works but warns on stderr', async () => {
    await withServer({ ...withoutCa(fakeEnv(wrong)), PROXMOX_VERIFY_SSL: 'false' }, async (mcp) => {
      const r = await call(mcp.client, 'get_nodes');
      expect(r.isError, r.text).toBe(false);
      expect(mcp.stderr()).toMatch(/WARNING .*PROXMOX_VERIFY_SSL=false: the Proxmox certificate is NOT verified/);
    });
  });
});
