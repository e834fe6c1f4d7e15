// The upstream client over the fake Proxmox: requests made while the first connection is being
// opened (the start-up privilege check and a host's first call, say) share it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pve } from '../src/proxmox/api/pve.js';
import { createUpstream } from '../src/proxmox/client.js';
import { startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';

describe('the first connection', () => {
  let fake: FakeProxmox;
  beforeAll(async () => {
    fake = await startFakeProxmox();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('is opened once for two requests made at the same moment, and both are answered', async () => {
    const upstream = createUpstream({
      api: pve,
      baseUrl: `${fake.url}/api2/json`,
      tokenId: fake.tokenId,
      tokenSecret: fake.tokenSecret,
      tls: { verify: true, caFile: fake.caFile },
      limits: { connections: 8 },
      allowedTemplates: new Set(['/version', '/nodes/{node}/status']),
    });
    const before = fake.connections;
    try {
      const signal = new AbortController().signal;
      const answers = await Promise.all([
        upstream.read('/version', signal),
        upstream.get({ template: '/nodes/{node}/status', path: { node: 'pve1' }, query: {}, signal }),
      ]);
      expect(answers.map((a) => a.ok)).toEqual([true, true]);
      expect(fake.connections - before).toBe(1);
    } finally {
      await upstream.close();
    }
  });

  it('does not hold a request given up on while the first one hangs', async () => {
    const upstream = createUpstream({
      api: pve,
      baseUrl: `${fake.url}/api2/json`,
      tokenId: fake.tokenId,
      tokenSecret: fake.tokenSecret,
      tls: { verify: true, caFile: fake.caFile },
      limits: {},
      allowedTemplates: new Set(['/version', '/nodes/{node}/status']),
    });
    fake.setFault('/version', { kind: 'hang' });
    try {
      let hungSettled = false;
      const hung = upstream.read('/version', new AbortController().signal).finally(() => (hungSettled = true));
      const waiting = new AbortController();
      const second = upstream.get({ template: '/nodes/{node}/status', path: { node: 'pve1' }, query: {}, signal: waiting.signal });
      await new Promise((resolve) => setTimeout(resolve, 200));
      waiting.abort(new DOMException('tool call timed out', 'TimeoutError'));
      const answer = await second;
      expect(answer.ok).toBe(false);
      expect(hungSettled).toBe(false);
      await upstream.close();
      await hung;
    } finally {
      fake.clearFaults();
      await upstream.close();
    }
  });
});
