// Hostile answers from Proxmox (or from a guest, through the guest-agent tools), generated: many
// keys, deep nesting, long strings, escapes, controls, and the token secret at every offset, in
// values and keys, whole or escaped. Every call must end in a shaped result or a clear error, with
// no piece of the secret of 8 characters or more in it, and the server must stay up.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { call, connect, fakeEnv, type Connected } from './support/mcp.js';

// One tool per way an answer is shaped: a record, a guest-agent record (unwrapped), a list.
const TARGETS = [
  { tool: 'get_vm_config', args: { node: 'pve1', vmid: 100 }, path: '/nodes/pve1/qemu/100/config', wrap: (d: string) => d },
  { tool: 'get_vm_os_info', args: { node: 'pve1', vmid: 100 }, path: '/nodes/pve1/qemu/100/agent/get-osinfo', wrap: (d: string) => `{"result":${d}}` },
  { tool: 'get_vms', args: { limit: 500 }, path: '/cluster/resources', wrap: (d: string) => `[${d},${d}]` },
] as const;

/** A JSON string literal whose UTF-16 units are written escaped or plain, at random. */
function escapedLiteral(text: string, escapes: boolean[]): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out += escapes[i % escapes.length] === true ? `\\u${unit.toString(16).padStart(4, '0')}` : JSON.stringify(String.fromCharCode(unit)).slice(1, -1);
  }
  return `${out}"`;
}

const NASTY = ['\u0000', '\u001b[8m', '\u202e', '\u200b', '\ufeff', '\ud800', '\\', '"', '\n', '\u{e0041}', '😀', 'é', 'password=', 'PVEAPIToken=', 'PVEAuthCookie='];

function bodies(secret: string, tokenId: string): fc.Arbitrary<string> {
  const secretForms = [secret, `PVEAPIToken=${tokenId}=${secret}`, `${tokenId}=${secret}`, `password=${secret}`];
  // A text holding the secret at a chosen offset (around the 128 and 2,000 character caps too).
  const withSecret = fc
    .record({
      offset: fc.oneof(fc.integer({ min: 0, max: 140 }), fc.integer({ min: 1960, max: 2010 }), fc.integer({ min: 0, max: 5000 })),
      form: fc.constantFrom(...secretForms),
      filler: fc.constantFrom('a', ' ', 'é', '\u200b', '"', '\\', '€'),
      escapes: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
    })
    .map(({ offset, form, filler, escapes }) => escapedLiteral(filler.repeat(offset) + form + filler.repeat(50), escapes));
  const nastyText = fc.array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 })), { maxLength: 30 }).map((parts) => JSON.stringify(parts.join('')));
  const longText = fc.record({ n: fc.integer({ min: 1000, max: 300_000 }), unit: fc.constantFrom('x', '"', '\\', '\u0001', '€', '😀', '\ud800') }).map(({ n, unit }) => JSON.stringify(unit.repeat(Math.ceil(n / unit.length))));
  const leafText = fc.oneof(withSecret, nastyText, longText, fc.constantFrom('0', '-1e308', '1e999', 'true', 'null', '""', '[]', '{}'));
  const key = fc.oneof(withSecret, nastyText, fc.constantFrom('"__proto__"', '"constructor"', '"password"', '"token"', '"key"', '"cipassword"', '"x"'));
  const manyKeys = fc.record({ n: fc.integer({ min: 1, max: 60_000 }), value: leafText, width: fc.integer({ min: 1, max: 40 }) }).map(({ n, value, width }) => {
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(`"${'k'.repeat(width)}${i}":${i % 97 === 0 ? value : String(i)}`);
    return `{${parts.join(',')}}`;
  });
  const deep = fc.record({ depth: fc.integer({ min: 1, max: 20_000 }), open: fc.constantFrom('[', '{"a":'), inner: leafText }).map(({ depth, open, inner }) => open.repeat(depth) + inner + (open === '[' ? ']' : '}').repeat(depth));
  const mixed = fc.array(fc.tuple(key, leafText), { maxLength: 40 }).map((pairs) => `{${pairs.map(([k, v]) => `${k}:${v}`).join(',')}}`);
  const data = fc.oneof(manyKeys, deep, mixed, leafText);
  return fc.oneof(
    { weight: 8, arbitrary: data.map((d) => ({ d, status: 200 })) },
    { weight: 1, arbitrary: fc.tuple(data, fc.constantFrom(400, 500, 596)).map(([d, status]) => ({ d, status })) },
    { weight: 1, arbitrary: fc.constantFrom('{"data":', '{"data":[1,2', 'not json', '', `{"data":"\\u`).map((d) => ({ d, status: 200, raw: true })) },
  ).map((b) => JSON.stringify(b));
}

describe('fuzzing answers', () => {
  let fake: FakeProxmox;
  let mcp: Connected;

  beforeAll(async () => {
    fake = await startFakeProxmox();
    mcp = await connect(fakeEnv(fake, { PROXMOX_RATE_LIMIT: '1000000', PROXMOX_CALL_TIMEOUT_MS: '15000' }));
  });
  afterAll(async () => {
    await mcp.close();
    await fake.close();
  });

  it('shapes or clearly refuses every hostile answer, and no piece of the secret gets out', async () => {
    const secret = fake.tokenSecret;
    const pieces = Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8));
    for (const target of TARGETS) {
      // A counterexample can be megabytes of JSON: the report keeps its start.
      await fc.assert(
        fc.asyncProperty(bodies(secret, fake.tokenId), async (spec) => {
          const { d, status, raw } = JSON.parse(spec) as { d: string; status: number; raw?: boolean };
          const body = raw === true ? d : status === 200 ? `{"data":${target.wrap(d)}}` : `{"data":null,"message":${d.startsWith('"') ? d : JSON.stringify(d.slice(0, 3000))},"errors":{"x":${d}}}`;
          fake.setFault(target.path, { kind: 'status', status, body });
          let timer: NodeJS.Timeout | undefined;
          const hang = new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              reject(new Error(`no answer from ${target.tool} within 60 s`));
            }, 60_000);
          });
          const r = await Promise.race([call(mcp.client, target.tool, target.args), hang]).finally(() => {
            clearTimeout(timer);
          });
          const out = `${r.text}\n${JSON.stringify(r.structured ?? null)}`;
          for (const piece of pieces) expect(out.includes(piece), `a piece of the secret in the answer of ${target.tool}`).toBe(false);
          if (r.isError) expect(r.text).toMatch(/^[A-Z]/);
          else expect(typeof r.structured).toBe('object');
        }),
        { numRuns: 25, seed: 20_261_202 },
      ).catch((error: unknown) => {
        throw new Error(`${target.tool}: ${String(error instanceof Error ? error.message : error).slice(0, 3000)}`);
      });
    }
    fake.clearFaults();
    const after = await call(mcp.client, 'get_node_status', { node: 'pve1' });
    expect(after.isError, after.text).toBe(false);
    expect(mcp.stderr()).not.toMatch(/unexpected failure|uncaught|RangeError/i);
  }, 600_000);
});
