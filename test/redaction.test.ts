// Redaction works on values, after parsing and before cutting: an answer that holds a token header
// stays valid, a secret at a cap is removed whole, and no message echoes a secret the caller sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import manifest from '../src/generated/manifest.json' with { type: 'json' };
import { createLogger } from '../src/logger.js';
import type { CompiledTool } from '../src/manifest/compile.js';
import { createValidatorProvider } from '../src/mcp/server.js';
import { pve } from '../src/proxmox/api/pve.js';
import { createUpstream } from '../src/proxmox/client.js';
import { cleanValue } from '../src/sanitize.js';
import { createRuntime } from '../src/tools/runtime.js';
import { PVE_AUDITOR, startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';

const SECRET = '5e0b7a52-3c1f-4d9e-8a6b-2f4c1d7e9a03';
const TOKEN_ID = 'mcp@pve!reader';

/** Every piece of the secret 8 characters or longer that shows up in `text`. */
function fragments(text: string, secret = SECRET): string[] {
  const found: string[] = [];
  for (let i = 0; i + 8 <= secret.length; i++) if (text.includes(secret.slice(i, i + 8))) found.push(secret.slice(i, i + 8));
  return found;
}

const tool = (manifest.tools as unknown as CompiledTool[]).find((t) => t.name === 'get_vm_config');
if (tool === undefined) throw new Error('get_vm_config is not in the manifest');

// A fake Proxmox that accepts this secret; each test sets the raw bytes of the answer.
let fake: FakeProxmox;
beforeAll(async () => {
  fake = await startFakeProxmox({ tokens: [{ id: TOKEN_ID, secret: SECRET, privileges: { '/': PVE_AUDITOR } }] });
});
afterAll(async () => {
  await fake.close();
});

/** The real client and runtime over TLS, with an answer body given as raw bytes. */
function runtimeAnswering(body: string, status = 200) {
  fake.setFault('/nodes/pve1/qemu/100/config', { kind: 'status', status, reason: 'OK', body });
  const upstream = createUpstream({
    api: pve,
    baseUrl: `${fake.url}/api2/json`,
    tokenId: TOKEN_ID,
    tokenSecret: SECRET,
    tls: { verify: true, caFile: fake.caFile },
    limits: {},
    allowedTemplates: new Set([tool?.path ?? '']),
  });
  const lines: string[] = [];
  const logger = createLogger({ level: 'DEBUG', write: (l) => lines.push(l) });
  const runtime = createRuntime(upstream, { callTimeoutMs: 5000, maxResultBytes: 24_000, rateLimitPerMinute: 1000, maxArgumentBytes: 4096, api: pve }, logger);
  return {
    call: async () => {
      try {
        return await runtime.call(tool as CompiledTool, { node: 'pve1', vmid: 100 });
      } finally {
        await upstream.close();
      }
    },
    lines,
  };
}

describe('an answer holding a token header', () => {
  it('stays a valid answer, with the header redacted (an escaped quote after it)', async () => {
    const note = 'see PVEAPIToken=x=y" in the log';
    const { call } = runtimeAnswering(JSON.stringify({ data: { description: note, name: 'vm' } }));
    const r = await call();
    expect(r.isError).toBe(false);
    expect(r.structuredContent?.description).toBe('see PVEAPIToken=x=[redacted]" in the log');
    expect(JSON.parse(r.text)).toEqual(r.structuredContent);
  });

  it('stays a valid answer when a zero-width space hides the header from a pattern on the raw text', async () => {
    const note = 'PVEAPI\u200bToken=x=y" and more';
    const { call } = runtimeAnswering(JSON.stringify({ data: { description: note } }));
    const r = await call();
    expect(r.isError).toBe(false);
    expect(r.structuredContent?.description).toBe('PVEAPIToken=x=[redacted]" and more');
  });

  it('redacts a whole header with the real token ID and secret', async () => {
    const { call } = runtimeAnswering(JSON.stringify({ data: { description: `Authorization: PVEAPIToken=${TOKEN_ID}=${SECRET}` } }));
    const r = await call();
    expect(r.isError).toBe(false);
    expect(fragments(r.text)).toEqual([]);
  });
});

// The secret as a host could write it so that no pattern on the raw text sees it: a JSON escape, or
// an invisible character that sanitising removes.
const disguises = [(raw: string): string => raw.replace(SECRET, `\\u0035${SECRET.slice(1)}`), (raw: string): string => raw.replace(SECRET, `${SECRET.slice(0, 8)}\u200b${SECRET.slice(8)}`)];

describe('a secret at a length cap', () => {
  it('is removed whole when it straddles the 2,000-character value cap (and the 500-character text cap)', async () => {
    for (const disguise of disguises) {
      for (const [field, before] of [['zzz', 1980], ['zzz', 1990], ['zzz', 1999], ['description', 480], ['description', 490]] as const) {
        const { call } = runtimeAnswering(disguise(JSON.stringify({ data: { [field]: `${'a'.repeat(before)}${SECRET} tail` } })));
        const r = await call();
        expect(r.isError).toBe(false);
        expect(fragments(r.text)).toEqual([]);
        // Redacted, then cut: the marker may be cut short, the secret is gone whole.
        expect(String(r.structuredContent?.[field])).toMatch(/^a+\[/);
      }
    }
  });

  it('is removed whole when it straddles the 128-character key cap', async () => {
    for (const disguise of disguises) {
      for (const before of [100, 110, 120]) {
        const { call } = runtimeAnswering(disguise(JSON.stringify({ data: { [`${'k'.repeat(before)}${SECRET}`]: 'v' } })));
        const r = await call();
        expect(r.isError).toBe(false);
        expect(fragments(r.text)).toEqual([]);
        expect(Object.keys(r.structuredContent ?? {})[0]).toMatch(/^k+\[/);
      }
    }
  });

  it('is removed whole from a header pattern cut by the cap (no known secret needed)', () => {
    const other = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    for (let before = 1960; before < 2000; before++) {
      const out = JSON.stringify(cleanValue({ v: `${'a'.repeat(before)} password=${other}`, w: `${'b'.repeat(before)}PVEAPIToken=a@b!c=${other}` }));
      expect(fragments(out, other)).toEqual([]);
    }
  });
});

describe('secrets the caller sends', () => {
  it('an unknown argument named after the secret is not echoed', () => {
    // Known to the process once a client holds it.
    runtimeAnswering('{}');
    const validate = createValidatorProvider().getValidator<Record<string, unknown>>({ type: 'object', properties: { node: { type: 'string' } }, additionalProperties: false });
    for (const name of [SECRET, `PVEAPIToken=${TOKEN_ID}=${SECRET}`, `${'x'.repeat(50)}${SECRET}`]) {
      const result = validate({ [name]: 1 });
      expect(result.valid).toBe(false);
      expect(result.errorMessage).toMatch(/unknown argument/);
      expect(fragments(result.errorMessage ?? '')).toEqual([]);
    }
  });
});

describe('log lines', () => {
  it('carry no terminal escapes, bidi overrides or invisible characters', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'DEBUG', write: (l) => lines.push(l) });
    logger.warn('the token holds /: VM.\u001b[8mPowerMgmt\u0007 \u202eevil\u202c \u200bhidden\r\nsecond line');
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? '';
    // eslint-disable-next-line no-control-regex -- exactly what must not reach a terminal
    expect(line).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b\u202a-\u202e]/);
    expect(line).toMatch(/VM\.\[8mPowerMgmt evil hidden second line\n$/);
  });

  it('redact a registered secret and any token header', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'DEBUG', secrets: [SECRET], write: (l) => lines.push(l) });
    logger.error(`failed with ${SECRET} and PBSAPIToken=a@pbs!t:${SECRET} and PVEAuthCookie=PVE:abc::sig`);
    expect(fragments(lines.join(''))).toEqual([]);
    expect(lines.join('')).not.toContain('PVE:abc');
  });
});
