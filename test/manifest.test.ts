// The manifest check: structure, the pinned spec, narrowing only, bound path parameters, the deny-list,
// and errors that name the tool, the field and the line.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileManifest, ManifestError } from '../src/manifest/compile.js';

const spec: unknown = JSON.parse(readFileSync(new URL('../spec/proxmox-ve.openapi.json', import.meta.url), 'utf8'));

function tool(body: string): string {
  return `version: 1\ntools:\n  - name: t_one\n    title: One\n    description: A test tool that reads one thing from Proxmox.\n    privilege: Sys.Audit\n${body}`;
}

function problems(yaml: string): string[] {
  try {
    compileManifest(yaml, spec);
  } catch (error) {
    if (error instanceof ManifestError) return error.problems;
    throw error;
  }
  return [];
}

describe('compileManifest', () => {
  // Schemas are compiled without a meta-schema check (it costs more than every tool together):
  // what that check would catch in a hand-written schema must still be refused.
  it('refuses a schema with a misspelt keyword or a keyword value of the wrong type', () => {
    for (const schema of ['{ type: string, maxLen: 8 }', '{ type: string, maxLength: "8" }', '{ enum: running }', '{ type: strng }']) {
      const found = problems(tool(`    path: /cluster/resources\n    output: { shape: list }\n    params:\n      state: { in: filter, schema: ${schema} }\n`));
      expect(found.join('\n')).toMatch(/tools\.yaml:\d+: tool "t_one": params(: the argument schema does not compile|\.state\.schema)/);
    }
  });

  it('compiles the project manifest', () => {
    const m = compileManifest(readFileSync(new URL('../tools.yaml', import.meta.url), 'utf8'), spec);
    expect(m.tools.length).toBeGreaterThanOrEqual(5);
    for (const t of m.tools) expect(t.annotations.readOnlyHint).toBe(true);
  });

  it('binds path parameters and takes their rules from the spec', () => {
    const m = compileManifest(tool('    path: /nodes/{node}/qemu/{vmid}/status/current\n    params:\n      node: {}\n      vmid: {}\n'), spec);
    const t = m.tools[0];
    expect(t?.inputSchema.required).toEqual(['node', 'vmid']);
    // Checked as an integer or a string of digits ("100"), which the runtime reads as the number.
    expect((t?.argumentSchema.properties as Record<string, Record<string, unknown>>).vmid).toMatchObject({ type: ['integer', 'string'], minimum: 100, maximum: 999999999 });
    expect((t?.inputSchema.properties as Record<string, Record<string, unknown>>).vmid).toEqual({ type: 'integer' });
    expect(t?.argumentSchema.additionalProperties).toBe(false);
    expect(JSON.stringify(t?.inputSchema)).not.toContain('x-pve');
  });

  it('lists arguments without the bounds a model need not read, and checks them all', () => {
    const m = compileManifest(
      tool('    path: /nodes/{node}/tasks\n    params:\n      node: {}\n      vmid: {}\n      typefilter: { schema: { type: string, maxLength: 32, pattern: "^[a-z]+$" } }\n    output: { shape: list, sort: [upid] }\n'),
      spec,
    );
    const t = m.tools[0];
    const listed = t?.inputSchema.properties as Record<string, Record<string, unknown>>;
    const checked = t?.argumentSchema.properties as Record<string, Record<string, unknown>>;
    expect(listed.vmid).toEqual({ type: 'integer' });
    expect(checked.vmid).toMatchObject({ minimum: 100, maximum: 999999999 });
    expect(listed.typefilter).toEqual({ type: 'string' });
    expect(checked.typefilter).toMatchObject({ maxLength: 32, pattern: '^[a-z]+$' });
    expect(listed.sort).toEqual({ enum: ['upid'] });
    // What a model gets wrong first is published: the page bound and that unknown arguments are refused.
    expect(listed.limit).toEqual({ type: 'integer', maximum: 500 });
    expect(checked.limit).toMatchObject({ minimum: 1, maximum: 500 });
    expect(t?.inputSchema.additionalProperties).toBe(false);
    expect(t?.inputSchema.required).toEqual(t?.argumentSchema.required);
  });

  it('names the tool, the field and the line of a path that is not in the spec', () => {
    expect(problems(tool('    path: /nodes/{node}/nowhere\n'))).toEqual([
      expect.stringMatching(/^tools\.yaml:7: tool "t_one": path: \/nodes\/\{node\}\/nowhere is not a GET operation/),
    ]);
  });

  it('refuses an unbound path parameter', () => {
    expect(problems(tool('    path: /nodes/{node}/status\n')).join('\n')).toMatch(/\{node\} is not bound/);
  });

  it('refuses a parameter the spec does not have, and a path parameter sent as query', () => {
    expect(problems(tool('    path: /nodes\n    params:\n      bogus: { in: query }\n')).join('\n')).toMatch(/tools\.yaml:9: .*"bogus" is not a query parameter of GET \/nodes/);
    expect(problems(tool('    path: /nodes/{node}/status\n    params:\n      node: { in: query }\n')).join('\n')).toMatch(/"node" is a path parameter in the spec, not query/);
  });

  it('lets a rule narrow the spec but never widen it', () => {
    const narrow = tool('    path: /cluster/resources\n    params:\n      type: { schema: { type: string, enum: [vm, node] } }\n    output: { shape: list }\n');
    expect(problems(narrow)).toEqual([]);
    const wide = tool('    path: /cluster/resources\n    params:\n      type: { schema: { type: string, enum: [vm, lxc] } }\n    output: { shape: list }\n');
    expect(problems(wide).join('\n')).toMatch(/widens the spec: enum values \["lxc"\] are not in the spec/);
    const bounds = tool('    path: /nodes/{node}/qemu/{vmid}/status/current\n    params:\n      node: {}\n      vmid: { schema: { type: integer, minimum: 1 } }\n');
    expect(problems(bounds).join('\n')).toMatch(/minimum must be at least the spec's 100/);
    const type = tool('    path: /nodes/{node}/qemu/{vmid}/status/current\n    params:\n      node: {}\n      vmid: { schema: { type: string } }\n');
    expect(problems(type).join('\n')).toMatch(/type string is not the spec's integer/);
  });

  it('checks fixed query values against the spec', () => {
    expect(problems(tool('    path: /cluster/resources\n    query: { type: lxc }\n    output: { shape: list }\n')).join('\n')).toMatch(/"lxc" does not satisfy the spec's rule for "type"/);
  });

  it('refuses endpoints on the deny-list, saying why', () => {
    const p = problems(tool('    path: /nodes/{node}/qemu/{vmid}/cloudinit/dump\n    params:\n      node: {}\n      vmid: {}\n      type: { schema: { type: string, enum: [user] } }\n'));
    expect(p.join('\n')).toMatch(/is refused: it answers with password hashes and keys/);
    expect(problems(tool('    path: /nodes/{node}/vncwebsocket\n    params:\n      node: {}\n')).join('\n')).toMatch(/refused: it opens a console/);
  });

  it('cannot express a method: unknown keys are refused', () => {
    expect(problems(tool('    path: /nodes\n    method: POST\n')).join('\n')).toMatch(/tools\.yaml:3: tool "t_one": must NOT have additional properties \("method"\)/);
  });

  it('refuses duplicate names and malformed YAML', () => {
    const one = tool('    path: /nodes\n');
    const twice = `${one}  - name: t_one\n    title: Two\n    description: The same name again, which must be refused.\n    privilege: Sys.Audit\n    path: /version\n`;
    expect(problems(twice).join('\n')).toMatch(/tools\.yaml:\d+: tool "t_one": name: is used by an earlier tool/);
    expect(problems('version: 1\ntools: [\n').join('\n')).toMatch(/^tools\.yaml:\d+:/);
  });

  it('adds paging, sorting and field selection to lists', () => {
    const m = compileManifest(tool('    path: /nodes\n    output: { shape: list, sort: [node], fields: [node] }\n'), spec);
    expect(Object.keys(m.tools[0]?.inputSchema.properties as object)).toEqual(['sort', 'order', 'limit', 'offset', 'fields']);
  });

  it('states in the output schema the identity fields and every field that is not a string', () => {
    const m = compileManifest(
      tool('    path: /cluster/resources\n    output:\n      shape: list\n      order: [vmid, name]\n      types: { vmid: int, cpu: percent, template: bool, tags: tags, mem: bytes }\n      derive: { mem_used_pct: { percent: [mem, maxmem] } }\n'),
      spec,
    );
    expect(m.tools[0]?.outputSchema).toEqual({
      type: 'object',
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: { vmid: { type: 'integer' }, name: { type: 'string' }, cpu_pct: { type: 'number' }, template: { type: 'boolean' }, tags: { type: 'array' }, mem_used_pct: { type: 'number' } },
          },
        },
      },
    });
    const record = compileManifest(tool('    path: /nodes/{node}/qemu/{vmid}/status/current\n    params:\n      node: {}\n      vmid: {}\n    output:\n      shape: record\n      order: [vmid, status]\n      types: { vmid: int, agent: bool }\n'), spec);
    expect(record.tools[0]?.outputSchema).toEqual({ type: 'object', properties: { vmid: { type: 'integer' }, status: { type: 'string' }, agent: { type: 'boolean' } } });
  });

  it('gives the spec\'s sizes, durations, fractions, times, flags and numbers their types unless declared', () => {
    const m = compileManifest(tool('    path: /cluster/resources\n    output: { shape: list }\n'), spec);
    expect(m.tools[0]?.output.types).toMatchObject({ mem: 'bytes', maxmem: 'bytes', uptime: 'duration', cpu: 'percent', tags: 'tags', template: 'bool', maxcpu: 'number', vmid: 'int' });
  });

  it('refuses a tool that breaks the answer conventions, saying which and how to fix it', () => {
    const raw = problems(tool('    path: /cluster/resources\n    output: { shape: list, types: { mem: int, uptime: number, tags: text } }\n')).join('\n');
    expect(raw).toMatch(/output\.types\.mem: Proxmox sends mem as bytes: type it bytes or rate/);
    expect(raw).toMatch(/output\.types\.uptime: Proxmox sends uptime as duration: type it duration/);
    expect(raw).toMatch(/output\.types\.tags: Proxmox sends tags as a separated string: type it tags/);
    expect(problems(tool('    path: /cluster/resources\n    output: { shape: list, derive: { used: { percent: [disk, maxdisk] } } }\n')).join('\n')).toMatch(
      /output\.derive\.used: a percentage is named \*_pct/,
    );
    expect(problems(tool('    path: /cluster/resources\n    output: { shape: list, sort: [cpu] }\n')).join('\n')).toMatch(/output\.sort: cpu is shown as cpu_pct: sort by that name/);
    expect(problems(tool('    path: /cluster/resources\n    params:\n      failed: { in: filter, field: status, match: differs }\n    output: { shape: list }\n')).join('\n')).toMatch(
      /match differs and value go together/,
    );
  });
});
