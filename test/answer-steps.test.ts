// A long answer is read in steps (that other work is done meanwhile is shown in envelope.test.ts):
// what it makes is still shaped and redacted as a short answer is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import manifest from '../src/generated/manifest.json' with { type: 'json' };
import { createLogger } from '../src/logger.js';
import type { CompiledTool } from '../src/manifest/compile.js';
import { pve } from '../src/proxmox/api/pve.js';
import { createUpstream } from '../src/proxmox/client.js';
import { STEPWISE_FROM } from '../src/proxmox/envelope.js';
import { createRuntime } from '../src/tools/runtime.js';
import { PVE_AUDITOR, startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';

const SECRET = '0d6f3c2a-9b8e-4f71-a5c4-7e2d1b9f8a60';
const TOKEN_ID = 'mcp@pve!reader';
const tools = manifest.tools as unknown as CompiledTool[];
const tool = (name: string): CompiledTool => {
  const found = tools.find((t) => t.name === name);
  if (found === undefined) throw new Error(`${name} is not in the manifest`);
  return found;
};
const config = tool('get_vm_config');

// A config record several times the length read in one step, a secret inside it twice.
const LONG = JSON.stringify({
  data: {
    name: 'vm',
    cipassword: 'hunter2hunter2',
    description: `echoed ${SECRET} here`,
    ...Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`blob${i}`, Array.from({ length: 60_000 }, (_, j) => `line ${j}`)])),
  },
});

let fake: FakeProxmox;
beforeAll(async () => {
  fake = await startFakeProxmox({ tokens: [{ id: TOKEN_ID, secret: SECRET, privileges: { '/': PVE_AUDITOR } }] });
  fake.setFault('/nodes/pve1/qemu/100/config', { kind: 'status', status: 200, reason: 'OK', body: LONG });
});
afterAll(async () => {
  await fake.close();
});

describe('a long answer', () => {
  it('is long enough to be read in steps', () => {
    expect(LONG.length).toBeGreaterThan(4 * STEPWISE_FROM);
  });

  it('is shaped and redacted as a short one, through the real client', async () => {
    const upstream = createUpstream({
      api: pve,
      baseUrl: `${fake.url}/api2/json`,
      tokenId: TOKEN_ID,
      tokenSecret: SECRET,
      tls: { verify: true, caFile: fake.caFile },
      limits: {},
      allowedTemplates: new Set([config.path]),
    });
    const logger = createLogger({ level: 'ERROR', write: () => undefined });
    const rt = createRuntime(upstream, { callTimeoutMs: 60_000, maxResultBytes: 24_000, rateLimitPerMinute: 1000, maxArgumentBytes: 4096, api: pve }, logger);
    try {
      const l = await rt.call(config, { node: 'pve1', vmid: 100 });
      expect(l.isError).toBe(false);
      expect(l.structuredContent).toMatchObject({ name: 'vm', cipassword: '[redacted]', description: 'echoed [redacted] here' });
      expect(l.structuredContent?.truncated).toMatchObject({ omitted_fields: ['blob0', 'blob1', 'blob2'] });
      expect(l.text).not.toContain(SECRET);
    } finally {
      await upstream.close();
    }
  });
});
