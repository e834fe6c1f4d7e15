import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import {
  type Json,
  type JsonObject,
  convertApidoc,
  extractApiSchema,
  serializeSpec,
} from '../scripts/convert-apidoc.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(repo, 'test', 'fixtures', 'apidoc');
const reference = resolve(repo, '..', 'shared', 'proxmox-api');
const haveReference = existsSync(join(reference, 'apidoc-9.1.3.js')) && existsSync(join(reference, 'apidoc-8.4.0.js'));
if (!haveReference) {
  console.warn(`reference apidoc files not found in ${reference}: the two reference conversion tests are skipped`);
}

const readFixture = (name: string): string => readFileSync(join(fixtures, name), 'utf8');

/** Every value in the tree with its key and the key of the object holding it, depth first. */
function* walk(value: Json, parentKey = ''): Generator<[string, Json, string]> {
  if (Array.isArray(value)) {
    for (const v of value) yield* walk(v, parentKey);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      yield [k, v, parentKey];
      yield* walk(v, k);
    }
  }
}

/** Keys of these maps are names chosen by Proxmox (properties, paths), not schema keywords. */
const NAME_MAPS = new Set(['properties', 'patternProperties', 'paths', 'schemas', 'securitySchemes', 'variables']);

function allPatterns(doc: JsonObject): string[] {
  const out: string[] = [];
  for (const [key, value] of walk(doc)) {
    if (key === 'pattern' && typeof value === 'string') out.push(value);
    if (key === 'patternProperties' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out.push(...Object.keys(value));
    }
  }
  return out;
}

function operation(doc: JsonObject, path: string): JsonObject {
  const paths = doc.paths as Record<string, Record<string, JsonObject>>;
  const op = paths[path]?.get;
  if (!op) throw new Error(`no GET ${path}`);
  return op;
}

function param(doc: JsonObject, path: string, name: string): { in: string; required: boolean; schema: JsonObject } {
  const params = (operation(doc, path).parameters ?? []) as { name: string; in: string; required: boolean; schema: JsonObject }[];
  const found = params.find((p) => p.name === name);
  if (!found) throw new Error(`no parameter ${name} on ${path}`);
  return found;
}

function dataSchema(doc: JsonObject, path: string): JsonObject {
  const responses = operation(doc, path).responses as Record<string, { content: Record<string, { schema: JsonObject }> }>;
  const envelope = responses['200']?.content['application/json']?.schema;
  return (envelope?.properties as Record<string, JsonObject>).data ?? {};
}

function regexOf(schema: JsonObject): RegExp {
  if (typeof schema.pattern !== 'string') throw new Error('no pattern');
  return new RegExp(schema.pattern, 'u');
}

const OUR_DESCRIPTIONS = new Set([
  'Success: the result is in data.',
  'Error: the reason is in message or in the HTTP status line.',
  'PVEAPIToken=USER@REALM!TOKENID=SECRET',
]);

describe.skipIf(!haveReference)('reference apidoc files', () => {
  for (const [release, expected] of [
    ['8.4.0', 304],
    ['9.1.3', 327],
  ] as const) {
    it(`converts ${release} to ${String(expected)} GET operations that pass the OpenAPI 3.1 validator`, async () => {
      const text = readFileSync(join(reference, `apidoc-${release}.js`), 'utf8');
      const result = convertApidoc(text, { release });
      expect(result.getOperations).toBe(expected);
      expect(result.warnings).toEqual([]);
      const doc = result.document;
      const paths = doc.paths as Record<string, JsonObject>;
      expect(Object.keys(paths)).toHaveLength(expected);
      for (const item of Object.values(paths)) expect(Object.keys(item)).toEqual(['get']);
      expect((doc.info as JsonObject).version).toBe(release);

      const validation = await new Validator().validate(JSON.parse(serializeSpec(doc)) as Parameters<Validator['validate']>[0]);
      expect(validation.errors).toBeUndefined();
      expect(validation.valid).toBe(true);

      const patterns = allPatterns(doc);
      expect(patterns.length).toBeGreaterThan(100);
      for (const p of patterns) {
        expect(() => new RegExp(p, 'u'), p).not.toThrow();
        expect(p.startsWith('^(?:') && p.endsWith(')$'), p).toBe(true);
      }

      const vmid = param(doc, '/nodes/{node}/qemu/{vmid}/status/current', 'vmid');
      expect(vmid).toMatchObject({ in: 'path', required: true, schema: { type: 'integer', minimum: 100, maximum: 999_999_999 } });
      const node = param(doc, '/nodes/{node}/qemu/{vmid}/status/current', 'node');
      const nodeRe = regexOf(node.schema);
      expect(['pve', 'node-1', 'A9'].every((n) => nodeRe.test(n))).toBe(true);
      expect(['-pve', 'pve-', 'a.b', 'a/b', ''].some((n) => nodeRe.test(n))).toBe(false);
      const storage = param(doc, '/nodes/{node}/storage/{storage}/status', 'storage');
      expect(storage.schema['x-pve-format']).toBe('pve-storage-id');
      const storageRe = regexOf(storage.schema);
      expect(storageRe.test('local-lvm')).toBe(true);
      expect(storageRe.test('1local')).toBe(false);

      // No Proxmox prose: the only descriptions are the converter's own.
      for (const [key, value, parentKey] of walk(doc)) {
        if (NAME_MAPS.has(parentKey) || parentKey === 'info') continue;
        if (key === 'description') expect(typeof value === 'string' && OUR_DESCRIPTIONS.has(value), JSON.stringify(value)).toBe(true);
        expect(['typetext', 'verbose_description', 'format_description', 'title', 'renderer', 'links']).not.toContain(key);
      }
      const serialized = serializeSpec(doc);
      expect(serialized).not.toContain('The cluster node name.');
      expect(serialized).not.toContain('The (unique) ID of the VM.');

      // Deterministic: a second run is byte-identical.
      expect(serializeSpec(convertApidoc(text, { release }).document)).toBe(serialized);
    });
  }

  it('matches the committed pin for 9.1.3', () => {
    const text = readFileSync(join(reference, 'apidoc-9.1.3.js'), 'utf8');
    const pinned = readFileSync(join(repo, 'spec', 'proxmox-ve.openapi.json'), 'utf8');
    expect(serializeSpec(convertApidoc(text, { release: '9.1.3' }).document)).toBe(pinned);
  });
});

describe('the pinned spec', () => {
  it('agrees with its lock file', () => {
    const lock = JSON.parse(readFileSync(join(repo, 'spec', 'proxmox-ve.lock.json'), 'utf8')) as Record<string, unknown>;
    const spec = JSON.parse(readFileSync(join(repo, 'spec', 'proxmox-ve.openapi.json'), 'utf8')) as JsonObject;
    expect(Object.keys(spec.paths as JsonObject)).toHaveLength(lock.getOperations as number);
    expect((spec.info as JsonObject).version).toBe(lock.pveDocsRelease);
    expect(lock.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('quirks of the format (hand-written fixture)', () => {
  const text = readFixture('quirks.apidoc');
  const result = convertApidoc(text, { release: 'fixture' });
  const doc = result.document;

  it('keeps GET operations only, including those under nodes without info', () => {
    expect(Object.keys(doc.paths as JsonObject)).toEqual(['/things', '/things/{id}/map', '/things/{id}/nothing', '/weird']);
    for (const item of Object.values(doc.paths as Record<string, JsonObject>)) expect(Object.keys(item)).toEqual(['get']);
    expect(result.getOperations).toBe(4);
    expect(operation(doc, '/things').operationId).toBe('get_things');
    expect(operation(doc, '/things/{id}/nothing').operationId).toBe('get_things_id_nothing');
  });

  it('passes the OpenAPI 3.1 validator', async () => {
    const validation = await new Validator().validate(JSON.parse(serializeSpec(doc)) as Parameters<Validator['validate']>[0]);
    expect(validation.errors).toBeUndefined();
  });

  it('derives required from optional written as 1, 0, "1", "0", true or absent', () => {
    const required = (name: string): boolean => param(doc, '/things', name).required;
    expect(required('opt_one')).toBe(false);
    expect(required('opt_string_one')).toBe(false);
    expect(required('opt_true')).toBe(false);
    expect(required('opt_zero')).toBe(true);
    expect(required('opt_string_zero')).toBe(true);
    expect(required('opt_absent')).toBe(true);
    // A path parameter is required even where the schema calls it optional.
    expect(param(doc, '/things/{id}/nothing', 'id')).toMatchObject({ in: 'path', required: true });
    expect(param(doc, '/things', 'opt_one').in).toBe('query');
  });

  it('coerces defaults to the declared type and drops those that do not fit', () => {
    const schema = (name: string): JsonObject => param(doc, '/things', name).schema;
    expect(schema('flag').default).toBe(true);
    expect(schema('count').default).toBe(16_777_216);
    expect(schema('count').minimum).toBe(1);
    expect(schema('ratio').default).toBe(0.5);
    expect(schema('label').default).toBe('7');
    for (const name of ['flag_bad_default', 'expire', 'keyboard', 'mode']) expect(schema(name)).not.toHaveProperty('default');
    expect(schema('mode').enum).toEqual(['a', 'b', 'c']);
  });

  it('keeps boolean parameters boolean with their wire form, and answers 0/1 tolerant', () => {
    expect(param(doc, '/things', 'flag').schema).toMatchObject({ type: 'boolean', 'x-pve-wire': '0|1' });
    const item = dataSchema(doc, '/things').items as JsonObject;
    const online = (item.properties as Record<string, JsonObject>).online ?? {};
    expect(online.enum).toEqual(expect.arrayContaining([0, 1, true, false, '']));
    expect(online.default).toBe(false);
    const mem = (item.properties as Record<string, JsonObject>).mem ?? {};
    expect(mem).toMatchObject({ type: ['integer', 'string'], minimum: 0, 'x-pve-renderer': 'bytes' });
  });

  it('returns type null as data null, and an unknown type as an open schema with a warning', () => {
    expect(dataSchema(doc, '/things/{id}/nothing')).toEqual({ type: 'null' });
    expect(dataSchema(doc, '/weird')).toEqual({ anyOf: [{}, { type: 'null' }] });
    expect(result.warnings.some((w) => w.includes('/weird') && w.includes('unknown type'))).toBe(true);
  });

  it('translates Perl patterns faithfully or drops them with a warning', () => {
    const pattern = (name: string): unknown => param(doc, '/things', name).schema.pattern;
    const re = (name: string): RegExp => new RegExp(String(pattern(name)), 'u');
    expect(re('ci').test('ABcfX')).toBe(true);
    expect(re('ci').test('ABgX')).toBe(false);
    expect(re('anchors').test('abc_1')).toBe(true);
    expect(re('posix').test('a \u00a09')).toBe(true);
    expect(re('atomic').test('aaab')).toBe(true);
    expect(re('possessive').test('xxy')).toBe(true);
    expect(pattern('perl_only')).toBeUndefined();
    expect(result.warnings.some((w) => w.includes('perl_only') && w.includes('dropped'))).toBe(true);
    for (const p of allPatterns(doc)) expect(() => new RegExp(p, 'u')).not.toThrow();
  });

  it('turns named formats into constraints and keeps unknown ones as a fact only', () => {
    const schema = (name: string): JsonObject => param(doc, '/things', name).schema;
    expect(schema('vmid')).toMatchObject({ type: 'integer', minimum: 100, maximum: 999_999_999, 'x-pve-format': 'pve-vmid' });
    expect(regexOf(schema('storage')).test('local.zfs')).toBe(true);
    expect(regexOf(schema('pool')).test('team/sub')).toBe(true);
    expect(regexOf(schema('iface')).test('vmbr0.100')).toBe(true);
    expect(schema('user')).toMatchObject({ minLength: 3, maxLength: 64 });
    expect(regexOf(schema('user')).test('root@pam')).toBe(true);
    // An explicit pattern and the format are both enforced by Proxmox: both are kept.
    expect(schema('cfg').pattern).toBe('^(?:[a-z]+)$');
    expect(schema('cfg').allOf).toEqual([{ pattern: '^(?:[a-zA-Z][a-zA-Z0-9_\\-]+)$' }]);
    expect(schema('odd_format')).toEqual({ type: 'string', 'x-pve-format': 'fixture-unknown-format' });
    expect(schema('prop_string')).toEqual({ type: 'string', 'x-pve-property-string': true });
    expect(schema('alias_param')['x-pve-alias']).toBe('opt_one');
    expect(schema('needs')['x-pve-requires']).toBe('opt_one');
  });

  it('handles oneOf with instance-types, numbered and placeholder keys, additionalProperties', () => {
    const item = dataSchema(doc, '/things').items as JsonObject;
    const props = item.properties as Record<string, JsonObject>;
    expect(props.variant).toMatchObject({
      'x-pve-type-property': 'kind',
      anyOf: [
        { type: 'array', items: { type: 'string' }, 'x-pve-instance-types': ['alpha'] },
        { type: 'array', items: { type: ['integer', 'string'] }, 'x-pve-instance-types': ['beta'] },
      ],
    });
    expect(props.per_kind).toMatchObject({ 'x-pve-instance-types': ['beta'], 'x-pve-type-property': 'kind' });
    expect(item.required).toEqual(['id', 'kind']);
    expect(item.patternProperties).toEqual({ '^(?:net\\d+)$': { type: 'string', 'x-pve-property-string': true } });
    // Answers stay open even where Proxmox declares them closed; declared-open ones say so.
    expect(props.closed).not.toHaveProperty('additionalProperties');
    expect(props.open?.additionalProperties).toBe(true);
    const map = dataSchema(doc, '/things/{id}/map');
    expect(map.properties).toBeUndefined();
    expect(map.additionalProperties).toEqual({ type: 'object', properties: { size: { type: ['integer', 'string'] } }, required: ['size'] });
  });

  it('carries permission checks and flags as facts, without prose', () => {
    const op = operation(doc, '/things');
    expect(op['x-pve-permissions']).toEqual({ check: ['perm', '/things', ['Sys.Audit'], 'any', 1] });
    expect(op).toMatchObject({ 'x-pve-protected': true, 'x-pve-proxyto': 'node', 'x-pve-allowtoken': true });
    const serialized = serializeSpec(doc);
    expect(serialized).not.toContain('FIXTURE-PROSE');
    expect(serialized).not.toContain('links');
    expect(serialized).not.toContain('fixture-unknown-key');
  });

  it('is deterministic: converting twice gives the same bytes', () => {
    expect(serializeSpec(convertApidoc(text, { release: 'fixture' }).document)).toBe(serializeSpec(doc));
    expect(serializeSpec(doc).endsWith('}\n')).toBe(true);
  });
});

describe('extraction', () => {
  it('reads an old-style file (var, one line, escaped quotes and brackets in strings)', () => {
    const result = convertApidoc(readFixture('old-release.apidoc'));
    expect(result.getOperations).toBe(2);
    expect((result.document.info as JsonObject).version).toBe('unknown');
    const item = dataSchema(result.document, '/nodes').items as JsonObject;
    expect(item.required).toEqual(['node', 'vmid']);
    expect(dataSchema(result.document, '/nodes/{node}')).toEqual({});
  });

  it('never evaluates the file, and explains what is wrong', () => {
    expect(() => extractApiSchema('const other = [1];')).toThrow(/apiSchema/);
    expect(() => extractApiSchema('const apiSchema = [ {"a": 1 ')).toThrow(/not closed/);
    expect(() => extractApiSchema("const apiSchema = [ {'a': 1} ];")).toThrow(/not valid JSON/);
    expect(extractApiSchema('apiSchema = [{"s": "]\\"["}]; throw new Error("ran")')).toEqual([{ s: ']"[' }]);
    // Older pve-docs releases named the array pveapi.
    expect(extractApiSchema('var pveapi = [{"path": "/version"}];\nExt.onReady(function () {});')).toEqual([{ path: '/version' }]);
  });
});

const backupReference = resolve(repo, '..', 'shared', 'proxmox-backup-api');
const haveBackupReference = existsSync(join(backupReference, 'apidoc-2025-08.js')) && existsSync(join(backupReference, 'apidoc-2026-07.js'));
if (!haveBackupReference) {
  console.warn(`reference Proxmox Backup Server files not found in ${backupReference}: their conversion tests are skipped`);
}

const PBS_DESCRIPTIONS = new Set([
  'Success: the result is in data.',
  'Error: the reason is the plain-text body, sent under a JSON content type.',
  'PBSAPIToken=USER@REALM!TOKENID:SECRET',
]);

describe.skipIf(!haveBackupReference)('reference Proxmox Backup Server files', () => {
  for (const [release, expected] of [
    ['2025-08', 183],
    ['2026-07', 185],
  ] as const) {
    it(`converts ${release} to ${String(expected)} GET operations that pass the OpenAPI 3.1 validator`, async () => {
      const text = readFileSync(join(backupReference, `apidoc-${release}.js`), 'utf8');
      const result = convertApidoc(text, { release, api: 'pbs' });
      expect(result.getOperations).toBe(expected);
      // Every pattern translated: none dropped (a dropped one would be a warning naming it).
      expect(result.warnings).toEqual([]);
      const doc = result.document;
      const paths = doc.paths as Record<string, JsonObject>;
      expect(Object.keys(paths)).toHaveLength(expected);
      for (const item of Object.values(paths)) expect(Object.keys(item)).toEqual(['get']);
      expect(doc.info).toMatchObject({ version: release, title: expect.stringContaining('Proxmox Backup Server') as unknown });
      expect(JSON.stringify(doc.servers)).toContain('"8007"');

      const validation = await new Validator().validate(JSON.parse(serializeSpec(doc)) as Parameters<Validator['validate']>[0]);
      expect(validation.errors).toBeUndefined();
      expect(validation.valid).toBe(true);

      // Rust patterns keep their own anchors (a search, as the regex crate runs them) and compile.
      const patterns = allPatterns(doc);
      expect(patterns.length).toBeGreaterThan(100);
      for (const p of patterns) expect(() => new RegExp(p, 'u'), p).not.toThrow();
      expect(patterns.some((p) => p.startsWith('/') || p.endsWith('/'))).toBe(false);

      // Parameters in the right place.
      const snapshots = '/admin/datastore/{store}/snapshots';
      expect(param(doc, snapshots, 'store')).toMatchObject({ in: 'path', required: true, schema: { type: 'string', minLength: 3, maxLength: 32 } });
      expect(param(doc, snapshots, 'ns')).toMatchObject({ in: 'query', required: false });
      expect(param(doc, snapshots, 'backup-type')).toMatchObject({ in: 'query', required: false, schema: { enum: ['vm', 'ct', 'host'] } });
      const storeRe = regexOf(param(doc, snapshots, 'store').schema);
      expect(storeRe.test('store1')).toBe(true);
      expect(storeRe.test('-store')).toBe(false);
      expect(param(doc, '/nodes/{node}/tasks/{upid}/log', 'upid')).toMatchObject({ in: 'path', required: true });
      expect(param(doc, '/nodes/{node}/tasks', 'errors')).toMatchObject({ in: 'query', required: false, schema: { type: 'boolean', default: false } });

      // Answers are typed as Rust writes them: real booleans and numbers.
      const snapshot = dataSchema(doc, snapshots).items as JsonObject;
      const props = snapshot.properties as Record<string, JsonObject>;
      expect(props.protected).toEqual({ type: 'boolean' });
      expect(props['backup-time']).toMatchObject({ type: 'integer', minimum: 1 });
      expect(snapshot.required).toEqual(expect.arrayContaining(['backup-id', 'backup-time', 'backup-type']));
      const comment = regexOf(props.comment ?? {});
      expect(comment.test('nightly – ok')).toBe(true);
      expect(comment.test('line\nbreak')).toBe(false);

      // Permission objects as facts; streaming GETs marked; the task list's total.
      expect(operation(doc, '/admin/datastore/{store}/gc')['x-pbs-permissions']).toEqual({
        check: { partial: false, path: ['datastore', '{store}'], privs: ['Datastore.Audit'] },
      });
      expect(operation(doc, '/admin/datastore/{store}/download')['x-pbs-download']).toBe(true);
      const tasks = operation(doc, '/nodes/{node}/tasks').responses as Record<string, { content: Record<string, { schema: JsonObject }> }>;
      expect((tasks['200']?.content['application/json']?.schema.properties as JsonObject).total).toEqual({ type: 'integer' });

      // No Proxmox prose: the only descriptions are the converter's own.
      for (const [key, value, parentKey] of walk(doc)) {
        if (NAME_MAPS.has(parentKey) || parentKey === 'info') continue;
        if (key === 'description') expect(typeof value === 'string' && PBS_DESCRIPTIONS.has(value), JSON.stringify(value)).toBe(true);
        expect(['typetext', 'title']).not.toContain(key);
      }
      const serialized = serializeSpec(doc);
      expect(serialized).not.toContain('Access control path.');
      expect(serialized).not.toContain('x-pve-');

      // Deterministic: a second run is byte-identical.
      expect(serializeSpec(convertApidoc(text, { release, api: 'pbs' }).document)).toBe(serialized);
    });
  }

  it('matches the committed pin for 2026-07', () => {
    const text = readFileSync(join(backupReference, 'apidoc-2026-07.js'), 'utf8');
    const pinned = readFileSync(join(repo, 'spec', 'proxmox-backup.openapi.json'), 'utf8');
    expect(serializeSpec(convertApidoc(text, { release: '2026-07', api: 'pbs' }).document)).toBe(pinned);
  });
});

describe('the pinned Proxmox Backup Server spec', () => {
  it('agrees with its lock file', () => {
    const lock = JSON.parse(readFileSync(join(repo, 'spec', 'proxmox-backup.lock.json'), 'utf8')) as Record<string, unknown>;
    const spec = JSON.parse(readFileSync(join(repo, 'spec', 'proxmox-backup.openapi.json'), 'utf8')) as JsonObject;
    expect(Object.keys(spec.paths as JsonObject)).toHaveLength(lock.getOperations as number);
    expect((spec.info as JsonObject).version).toBe(lock.release);
    expect(lock.sourceSha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('the Proxmox Backup Server dialect (hand-written fixture)', () => {
  const text = readFixture('pbs-quirks.apidoc');
  const result = convertApidoc(text, { release: 'fixture', api: 'pbs' });
  const doc = result.document;

  it('reads JSON booleans, slash-delimited Rust patterns, permission objects and DOWNLOAD GETs', async () => {
    expect(Object.keys(doc.paths as JsonObject)).toEqual(['/items/{id}', '/items/{id}/file']);
    const flag = param(doc, '/items/{id}', 'flag');
    expect(flag).toMatchObject({ in: 'query', required: false, schema: { type: 'boolean', default: true } });
    const id = param(doc, '/items/{id}', 'id');
    expect(id).toMatchObject({ in: 'path', required: true });
    expect(regexOf(id.schema).test('abc')).toBe(true);
    expect(regexOf(id.schema).test('a b')).toBe(false);
    expect(param(doc, '/items/{id}', 'note').schema.pattern).toBeUndefined();
    expect(result.warnings.some((w) => w.includes('note') && w.includes('dropped'))).toBe(true);
    expect(operation(doc, '/items/{id}')['x-pbs-permissions']).toEqual({
      or: [{ check: { partial: false, path: ['items', '{id}'], privs: ['Sys.Audit'] } }, { userParam: 'owner' }],
    });
    expect(operation(doc, '/items/{id}/file')['x-pbs-download']).toBe(true);
    const data = dataSchema(doc, '/items/{id}');
    expect((data.properties as Record<string, JsonObject>).on).toEqual({ type: 'boolean' });
    expect((data.properties as Record<string, JsonObject>).size).toEqual({ type: 'integer', minimum: 0 });
    const validation = await new Validator().validate(JSON.parse(serializeSpec(doc)) as Parameters<Validator['validate']>[0]);
    expect(validation.errors).toBeUndefined();
    expect(serializeSpec(doc)).not.toContain('FIXTURE-PROSE');
  });
});
