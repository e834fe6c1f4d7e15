// Answers written by an attacker (a compromised guest writes what the guest-agent tools carry):
// within the size limits, each is shaped or refused with words that say what happened, and the
// server goes on answering.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { call, connect, fakeEnv, type Connected } from './support/mcp.js';

const OS_INFO = '/nodes/pve1/qemu/100/agent/get-osinfo';

describe('hostile answers', () => {
  let fake: FakeProxmox;
  let mcp: Connected;

  beforeAll(async () => {
    fake = await startFakeProxmox();
    mcp = await connect(fakeEnv(fake, { PROXMOX_RATE_LIMIT: '100000' }));
  });
  afterEach(async () => {
    fake.clearFaults();
    const r = await call(mcp.client, 'get_node_status', { node: 'pve1' });
    expect(r.isError, r.text).toBe(false);
  });
  afterAll(async () => {
    await mcp.close();
    await fake.close();
  });

  it('a guest-agent record of 40,000 small fields is cut to the budget, naming some and counting the rest', async () => {
    const result = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, `v${i}`]));
    fake.setFault(OS_INFO, { kind: 'status', status: 200, body: JSON.stringify({ data: { result } }) });
    const r = await call(mcp.client, 'get_vm_os_info', { node: 'pve1', vmid: 100 });
    expect(r.isError, r.text).toBe(false);
    const truncated = r.structured?.truncated as { omitted_fields: string[]; omitted_more: number };
    expect(truncated.omitted_fields.length).toBeGreaterThan(0);
    expect(truncated.omitted_more).toBeGreaterThan(0);
  });

  it('a lone UTF-16 surrogate in an argument: an invalid argument, not an unreachable host', async () => {
    const r = await call(mcp.client, 'get_node_tasks', { node: 'pve1', type: 'ab\uD800cd' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/^Invalid argument: .*surrogate/);
    expect(r.text).not.toMatch(/Cannot reach|PROXMOX_HOST/);
  });

  it('an error answer nested 10,000 levels deep: an unreadable answer, not an unreachable host', async () => {
    const deep = `{"message":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    fake.setFault(OS_INFO, { kind: 'status', status: 500, body: deep });
    const r = await call(mcp.client, 'get_vm_os_info', { node: 'pve1', vmid: 100 });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/could not be read \(.*nested/);
    expect(r.text).not.toMatch(/Cannot reach|PROXMOX_HOST/);
  });

  it('a data answer nested 10,000 levels deep: an unreadable answer, and the server carries on', async () => {
    const deep = `{"data":{"description":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
    fake.setFault('/nodes/pve1/qemu/100/config', { kind: 'status', status: 200, body: deep });
    const r = await call(mcp.client, 'get_vm_config', { node: 'pve1', vmid: 100 });
    expect(r.isError, r.text.slice(0, 300)).toBe(true);
    expect(r.text).toMatch(/could not be read \(.*nested more than \d+ levels/);
  });

  it('an answer of millions of tiny values is refused unread, saying what to ask for instead', async () => {
    const body = `{"data":[${'0,'.repeat(2_500_000)}0]}`;
    fake.setFault('/cluster/resources', { kind: 'status', status: 200, body });
    const r = await call(mcp.client, 'get_vms');
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/refused unread: the answer holds more than [\d,]+ values.*Ask for less/);
  });
});
