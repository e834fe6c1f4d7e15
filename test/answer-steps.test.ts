// A long answer is read in steps: while it is read, other calls are answered, and what it makes is
// still shaped and redacted as a short answer is.
import { setImmediate } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import manifest from '../src/generated/manifest.json' with { type: 'json' };
import { createLogger } from '../src/logger.js';
import type { CompiledTool } from '../src/manifest/compile.js';
import { pve } from '../src/proxmox/api/pve.js';
import { createUpstream } from '../src/proxmox/client.js';
import { STEPWISE_FROM } from '../src/proxmox/envelope.js';
import { createRuntime } from '../src/tools/runtime.js';

const SECRET = '0d6f3c2a-9b8e-4f71-a5c4-7e2d1b9f8a60';
const tools = manifest.tools as unknown as CompiledTool[];
const tool = (name: string): CompiledTool => {
  const found = tools.find((t) => t.name === name);
  if (found === undefined) throw new Error(`${name} is not in the manifest`);
  return found;
};
const config = tool('get_vm_config');
const status = tool('get_node_status');

// A config record several times the length read in one step, a secret inside it twice.
const LONG = JSON.stringify({
  data: {
    name: 'vm',
    cipassword: 'hunter2hunter2',
    description: `echoed ${SECRET} here`,
    ...Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`blob${i}`, Array.from({ length: 60_000 }, (_, j) => `line ${j}`)])),
  },
});

function runtime() {
  const upstream = createUpstream({
    api: pve,
    baseUrl: 'https://pve.test:8006/api2/json',
    tokenId: 'mcp@pve!reader',
    tokenSecret: SECRET,
    tls: { verify: true },
    limits: {},
    allowedTemplates: new Set([config.path, status.path]),
    fetch: (input) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const body = url.pathname.endsWith('/config') ? LONG : JSON.stringify({ data: { uptime: 1 } });
      return Promise.resolve(new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }));
    },
  });
  const logger = createLogger({ level: 'ERROR', write: () => undefined });
  return createRuntime(upstream, { callTimeoutMs: 60_000, maxResultBytes: 24_000, rateLimitPerMinute: 1000, maxArgumentBytes: 4096, api: pve }, logger);
}

describe('a long answer', () => {
  it('is long enough to be read in steps', () => {
    expect(LONG.length).toBeGreaterThan(4 * STEPWISE_FROM);
  });

  it('lets a call that starts while it is read be answered first', async () => {
    const rt = runtime();
    const order: string[] = [];
    const long = rt.call(config, { node: 'pve1', vmid: 100 }).then((r) => {
      order.push('long');
      return r;
    });
    // The long call has its answer in hand and is reading it: read in one step, it would be done.
    await setImmediate();
    const short = rt.call(status, { node: 'pve1' }).then((r) => {
      order.push('short');
      return r;
    });
    const [l, s] = await Promise.all([long, short]);
    expect(order).toEqual(['short', 'long']);
    expect(s.isError).toBe(false);
    expect(l.isError).toBe(false);
    expect(l.structuredContent).toMatchObject({ name: 'vm', cipassword: '[redacted]', description: 'echoed [redacted] here' });
    expect(l.text).not.toContain(SECRET);
  });
});
