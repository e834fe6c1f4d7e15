// Hostile and generated arguments for every tool, through a real MCP client over stdio. The server
// must answer every call, stay up, and send Proxmox nothing but GETs of allowed templates whose
// values satisfy the pinned spec.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import manifest from '../src/generated/manifest.json' with { type: 'json' };
import { startFakeProxmox, type FakeProxmox } from './fake-proxmox/index.js';
import { call, connect, fakeEnv, type Connected } from './support/mcp.js';

interface SpecParam {
  in: 'path' | 'query';
  name: string;
  schema: Record<string, unknown>;
}
interface Spec {
  paths: Record<string, { get?: { parameters?: SpecParam[] } }>;
}

const SPEC = JSON.parse(readFileSync(new URL('../spec/proxmox-ve.openapi.json', import.meta.url), 'utf8')) as Spec;
// The runtime also reads these two for the start-up check and the doctor.
const ALLOWED = [...new Set([...manifest.tools.map((t) => t.path), '/access/permissions', '/version'])];

const HOSTILE_STRINGS = [
  '..', '../..', '../../etc/passwd', '%2e%2e', '%2e%2e%2f', '..%2f', '..%2F..%2F', '%2F', 'pve1%2Fqemu', 'a/b', '/', '\\', '..\\..\\',
  'pve1/../../access/users', 'pve1?x=1', 'pve1&x=1', 'pve1#frag', 'pve1\r\nX-Injected: 1', 'pve1%0d%0a', 'pve1;rm -rf /',
  'pve1\u0000', '\u0000', 'pve1\u202Egnp.exe', 'pve\u200B1', 'pve\u200D1', 'рve1', 'ｐｖｅ1', 'pve1\uFEFF', '\uD800', '💥',
  '__proto__', 'constructor', 'prototype', '{node}', '${node}', '*', '%', '%%', '%zz', '%C0%AE', 'PVEAPIToken=x=y', ' ', '',
  'pve1 ', ' pve1', 'PVE1', 'localhost', '127.0.0.1', 'https://evil.example/', '//evil.example/x', '@evil.example',
  'A'.repeat(70_000), '-1', '99', '100', '999999999', '1000000000', '1e3', '0x64', 'NaN', 'true', 'null',
];
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'node\u0000', 'path', 'method', 'url', 'x', ''];
const GOOD_VALUES: Record<string, unknown[]> = {
  node: ['pve1', 'pve2', 'pve3', 'nosuchnode'],
  vmid: [100, 101, 102, 200, 999999999],
  storage: ['local', 'local-lvm'],
};
const UNKNOWN_TOOLS = ['nosuch', 'get_nodes/../x', '__proto__', 'constructor', 'toString', 'GET_NODES', 'get_nodes\u0000', ''];

const hostileString = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));
const deep = (depth: number): unknown => (depth === 0 ? 'x' : { a: deep(depth - 1) });
const leaf = fc.oneof(
  hostileString,
  fc.integer(),
  fc.constantFrom(0, -1, 99, 100, 101, 999999999, 1e9, 2 ** 53, -0, 0.5),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.array(hostileString, { minLength: 100, maxLength: 400 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...HOSTILE_KEYS), leaf, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(deep(50), deep(300), JSON.parse('{"__proto__":{"polluted":1}}') as unknown) },
);

/** Arguments near the tool's schema (so some reach Proxmox), mixed with hostile values and keys. */
function argsFor(properties: Record<string, { enum?: unknown[] }>): fc.Arbitrary<Record<string, unknown>> {
  const names = Object.keys(properties);
  const valueFor = (name: string): fc.Arbitrary<unknown> => {
    const good = GOOD_VALUES[name] ?? properties[name]?.enum ?? [];
    return good.length > 0 ? fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...good) }, { weight: 3, arbitrary: anyValue }) : anyValue;
  };
  const known = names.length === 0 ? fc.constant([] as [string, unknown][]) : fc.subarray(names).chain((chosen) => fc.tuple(...chosen.map((n) => valueFor(n).map((v): [string, unknown] => [n, v]))));
  const extra = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 10 })), anyValue), { maxLength: 2 });
  // fromEntries makes "__proto__" an own key, exactly as JSON.parse on the server side sees it.
  return fc.tuple(known, fc.oneof({ weight: 3, arbitrary: fc.constant([] as [string, unknown][]) }, { weight: 1, arbitrary: extra })).map(([k, e]) => Object.fromEntries([...k, ...e]));
}

function templateRegex(template: string): RegExp {
  return new RegExp(`^/api2/json${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '([^/]+)')}$`);
}

const ajv = new Ajv2020({ strict: false, validateFormats: false });
const validators = new Map<string, ValidateFunction>();
function specValidator(template: string, param: SpecParam): ValidateFunction {
  const key = `${template} ${param.in} ${param.name}`;
  let v = validators.get(key);
  if (v === undefined) {
    v = ajv.compile(param.schema);
    validators.set(key, v);
  }
  return v;
}

/** The wire value as the spec types it: integers and 0|1 booleans travel as text. */
function fromWire(text: string, schema: Record<string, unknown>): unknown {
  if (schema.type === 'integer' || schema.type === 'number') return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  if (schema.type === 'boolean') return text === '1' ? true : text === '0' ? false : text;
  return text;
}

/** Every problem with one recorded request, or none. */
function violations(req: { method: string; path: string; query: Record<string, string> }): string[] {
  const problems: string[] = [];
  if (req.method !== 'GET') problems.push(`method ${req.method}`);
  const template = ALLOWED.find((t) => templateRegex(t).test(req.path));
  if (template === undefined) return [...problems, `path ${req.path} matches no allowed template`];
  const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
  const values = templateRegex(template).exec(req.path)?.slice(1) ?? [];
  const params = SPEC.paths[template]?.get?.parameters ?? [];
  names.forEach((name, i) => {
    const param = params.find((p) => p.in === 'path' && p.name === name);
    let decoded: string;
    try {
      decoded = decodeURIComponent(values[i] ?? '');
    } catch {
      problems.push(`${req.path}: ${name} is not valid percent-encoding`);
      return;
    }
    if (param === undefined) problems.push(`${template}: no spec parameter ${name}`);
    else if (!specValidator(template, param)(fromWire(decoded, param.schema))) problems.push(`${req.path}: ${name}=${JSON.stringify(decoded)} breaks the spec`);
  });
  for (const [name, value] of Object.entries(req.query)) {
    const param = params.find((p) => p.in === 'query' && p.name === name);
    if (param === undefined) problems.push(`${req.path}: query ${name} is not in the spec`);
    else if (!specValidator(template, param)(fromWire(value, param.schema))) problems.push(`${req.path}: query ${name}=${JSON.stringify(value)} breaks the spec`);
  }
  return problems;
}

type Answer = { kind: 'result'; isError: boolean; content: unknown; structured: unknown } | { kind: 'rpc-error'; code: unknown; message: string };

describe('fuzzing every tool over stdio', () => {
  let fake: FakeProxmox;
  let mcp: Connected;
  let tools: { name: string; inputSchema: { properties?: Record<string, { enum?: unknown[] }> } }[] = [];

  beforeAll(async () => {
    fake = await startFakeProxmox();
    mcp = await connect(fakeEnv(fake, { PROXMOX_MCP_UNUSABLE_TOOLS: 'show', PROXMOX_RATE_LIMIT: '1000000', PROXMOX_TIMEOUT_MS: '3000', PROXMOX_CALL_TIMEOUT_MS: '5000' }));
    tools = (await mcp.client.listTools()).tools as typeof tools;
  });
  afterAll(async () => {
    await mcp.close();
    await fake.close();
  });

  async function send(name: string, args: Record<string, unknown>): Promise<Answer> {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { reject(new Error(`no answer to ${name} within 20 s`)); }, 20_000);
    });
    try {
      const res = (await Promise.race([mcp.client.callTool({ name, arguments: args }), hang])) as { isError?: boolean; content?: unknown; structuredContent?: unknown };
      return { kind: 'result', isError: res.isError === true, content: res.content, structured: res.structuredContent };
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('no answer')) throw error;
      const e = error as { code?: unknown; message?: string };
      return { kind: 'rpc-error', code: e.code, message: e.message ?? String(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  function expectWellFormed(answer: Answer, name: string, args: Record<string, unknown>): void {
    const label = `${name} ${JSON.stringify(args).slice(0, 300)}`;
    expect(answer.kind, `${label}: ${answer.kind === 'rpc-error' ? answer.message : ''}`).toBe('result');
    if (answer.kind !== 'result') return;
    expect(Array.isArray(answer.content), label).toBe(true);
    const content = answer.content as { type: string; text?: unknown }[];
    expect(content.length, label).toBeGreaterThan(0);
    expect(content.every((c) => c.type === 'text' && typeof c.text === 'string' && c.text.length > 0), label).toBe(true);
    if (!answer.isError) expect(typeof answer.structured, label).toBe('object');
    // Whatever went in, what comes back is bounded and free of the token.
    const text = content.map((c) => String(c.text)).join('');
    expect(text.length, label).toBeLessThan(200_000);
    expect(text).not.toContain(fake.tokenSecret);
  }

  it('answers every generated call to every tool, and the server stays up', async () => {
    expect(tools.length).toBeGreaterThan(0);
    expect(tools.map((t) => t.name).sort()).toEqual(manifest.tools.map((t) => t.name).sort());
    const runs = Math.max(60, Math.floor(3000 / tools.length));
    let reached = 0;
    for (const tool of tools) {
      const before = fake.requests.length;
      await fc.assert(
        fc.asyncProperty(argsFor(tool.inputSchema.properties ?? {}), async (args) => {
          expectWellFormed(await send(tool.name, args), tool.name, args);
        }),
        { numRuns: runs, seed: 20_240_601 },
      );
      if (fake.requests.length > before) reached++;
    }
    // The generator must get past the schemas sometimes, or the upstream check below proves little.
    expect(reached).toBeGreaterThan(0);
  }, 120_000);

  it('answers unknown tools with an error, never a crash', async () => {
    for (const name of UNKNOWN_TOOLS) {
      const answer = await send(name, { node: 'pve1' });
      if (answer.kind === 'result') expect(answer.isError).toBe(true);
      // The SDK keeps tools in a plain object: "__proto__" and "constructor" come back as "disabled".
      else expect(answer.message).toMatch(/not found|disabled|unknown|invalid/i);
    }
  });

  it('still answers a normal call afterwards', async () => {
    const r = await call(mcp.client, 'get_node_status', { node: 'pve1' });
    expect(r.isError, r.text).toBe(false);
    expect(mcp.stderr()).not.toMatch(/unexpected failure|uncaught|TypeError|RangeError/i);
  });

  it('sent Proxmox only GETs of allowed templates with values the spec accepts', () => {
    expect(fake.requests.length).toBeGreaterThan(0);
    const problems = fake.requests.flatMap(violations);
    expect(problems).toEqual([]);
  });

  it('the request-log check itself catches what it must', () => {
    expect(violations({ method: 'POST', path: '/api2/json/nodes', query: {} })).toEqual(['method POST']);
    expect(violations({ method: 'GET', path: '/api2/json/nodes/pve1/qemu/100/status/stop', query: {} })[0]).toMatch(/no allowed template/);
    expect(violations({ method: 'GET', path: '/api2/json/nodes/..%2f/status', query: {} })[0]).toMatch(/breaks the spec/);
    expect(violations({ method: 'GET', path: '/api2/json/nodes', query: { x: '1' } })[0]).toMatch(/not in the spec/);
    if (ALLOWED.includes('/cluster/resources')) {
      expect(violations({ method: 'GET', path: '/api2/json/cluster/resources', query: { type: 'vm\r\n' } })[0]).toMatch(/breaks the spec/);
    }
  });
});
