// Converts a Proxmox VE `apidoc.js` (the API viewer's data file) into an OpenAPI 3.1 document that
// holds every GET operation and nothing else. Pure: text in, object and warnings out.
//
// The file is JavaScript, not JSON. It is never evaluated: the array literal assigned to
// `apiSchema` is located, bracket-matched and parsed as JSON. The output carries facts only
// (types, bounds, enums, patterns, permissions as structured data), never Proxmox's prose.

/** Bump when the output for the same input changes; recorded in the lock file. */
export const CONVERTER_VERSION = 1;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface ConvertOptions {
  /** The pve-docs release the file came from; `info.version`. */
  release?: string;
}

export interface ConvertResult {
  document: JsonObject;
  warnings: string[];
  getOperations: number;
}

// --- extraction -------------------------------------------------------------------------------

/**
 * Finds `apiSchema = [ ... ]` (`pveapi = [ ... ]` in older pve-docs releases) and parses the literal
 * as JSON, without running any of the file.
 */
export function extractApiSchema(text: string): unknown[] {
  const assignment = /\bapiSchema\s*=\s*\[/.exec(text) ?? /\bpveapi\s*=\s*\[/.exec(text);
  if (!assignment) throw new Error('no "apiSchema = [" (or older "pveapi = [") assignment found: is this a Proxmox apidoc.js?');
  const start = assignment.index + assignment[0].length - 1;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        if (c !== ']') break;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text.slice(start, i + 1));
        } catch (error) {
          throw new Error(`the apiSchema literal is not valid JSON: ${(error as Error).message}`);
        }
        if (!Array.isArray(parsed)) throw new Error('apiSchema is not an array');
        return parsed;
      }
    }
  }
  throw new Error('the apiSchema array literal is not closed');
}

// --- small helpers ----------------------------------------------------------------------------

type Raw = Record<string, unknown>;

function isRaw(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Perl truthiness, which is what Proxmox applies to flags such as `optional`. */
function perlTrue(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value !== '' && value !== '0';
  return true;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

function toInteger(value: unknown): number | undefined {
  const n = toNumber(value);
  return n !== undefined && Number.isInteger(n) ? n : undefined;
}

function toBoolean(value: unknown): boolean | undefined {
  if (value === true || value === 1 || value === '1') return true;
  if (value === false || value === 0 || value === '0' || value === '') return false;
  return undefined;
}

function isJson(value: unknown): value is Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  if (isRaw(value)) return Object.values(value).every(isJson);
  return false;
}

/** Coerces a value to a Proxmox scalar type; undefined when it cannot be done faithfully. */
function coerce(value: unknown, type: string | undefined): Json | undefined {
  switch (type) {
    case 'boolean':
      return toBoolean(value);
    case 'integer':
      return toInteger(value);
    case 'number':
      return toNumber(value);
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      return undefined;
    case 'array':
      return Array.isArray(value) && isJson(value) ? value : undefined;
    case 'object':
      return isRaw(value) && isJson(value) ? value : undefined;
    default:
      return undefined;
  }
}

/** Sorts object keys recursively so that output is byte-stable; arrays keep their order. */
export function sortKeysDeep(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const key of Object.keys(value).sort()) {
      const v = value[key];
      if (v !== undefined) out[key] = sortKeysDeep(v);
    }
    return out;
  }
  return value;
}

/** The pinned file's exact text: sorted keys, 2-space indent, trailing newline. */
export function serializeSpec(document: JsonObject): string {
  return `${JSON.stringify(sortKeysDeep(document), null, 2)}\n`;
}

// --- named formats ----------------------------------------------------------------------------

interface NamedFormat {
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

// Input constraints of Proxmox's named formats, transcribed from the verifiers that Proxmox
// registers with `register_format` (pve-common PVE/JSONSchema.pm, pve-access-control
// PVE/Auth/Plugin.pm and PVE/AccessControl.pm, pve-guest-common PVE/ReplicationConfig.pm).
// A verifier using `/i` is written out with both cases. Formats not listed keep `x-pve-format`
// only: their verifiers do more than a regular expression can say (IP parsing, lookups).
const NAMED_FORMATS: Record<string, NamedFormat> = {
  // pve_verify_node_name: a DNS label shape; Proxmox sets no length limit.
  'pve-node': { pattern: '^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)$' },
  // pve_verify_vmid plus the standard option's bounds.
  'pve-vmid': { pattern: '^(?:[1-9][0-9]{2,8})$', minimum: 100, maximum: 999_999_999 },
  // parse_storage_id / parse_id: /^[a-z][a-z0-9\-\_\.]*[a-z0-9]$/i
  'pve-storage-id': { pattern: '^(?:[a-zA-Z][a-zA-Z0-9\\-_.]*[a-zA-Z0-9])$' },
  'acme-plugin-id': { pattern: '^(?:[a-zA-Z][a-zA-Z0-9\\-_.]*[a-zA-Z0-9])$' },
  // $CONFIGID_RE = /[a-z][a-z0-9_-]+/i
  'pve-configid': { pattern: '^(?:[a-zA-Z][a-zA-Z0-9_\\-]+)$' },
  // verify_poolname: up to three levels of nested pools (PVE 8.1 on).
  'pve-poolid': { pattern: '^(?:[A-Za-z0-9.\\-_]+(?:\\/[A-Za-z0-9.\\-_]+){0,2})$' },
  'pve-groupid': { pattern: '^(?:[A-Za-z0-9.\\-_]+)$' },
  'pve-roleid': { pattern: '^(?:[A-Za-z0-9.\\-_]+)$' },
  // pve_verify_iface: /^[a-z][a-z0-9_]{1,20}([:\.]\d+)?$/i
  'pve-iface': { pattern: '^(?:[a-zA-Z][a-zA-Z0-9_]{1,20}(?:[:.]\\d+)?)$' },
  // $realm_regex
  'pve-realm': { pattern: '^(?:[A-Za-z][A-Za-z0-9.\\-_]+)$' },
  // verify_username: 3 to 64 characters, user@realm
  'pve-userid': { pattern: '^(?:[^\\s:\\/]+@[A-Za-z][A-Za-z0-9.\\-_]+)$', minLength: 3, maxLength: 64 },
  // parse_replication_job_id: GUEST-JOBNUM with int(GUEST) >= 100
  'pve-replication-job-id': { pattern: '^(?:0*[1-9]\\d{2,}-\\d+)$' },
  'pve-bridge-id': { pattern: '^(?:[\\-_.\\w]+)$' },
  'mac-addr': { pattern: '^(?:[a-fA-F0-9][02468aceACE](?::[a-fA-F0-9]{2}){5})$' },
  'dns-name': {
    pattern: '^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9\\-]*[a-zA-Z0-9])?\\.)*[a-zA-Z0-9](?:[a-zA-Z0-9\\-]*[a-zA-Z0-9])?)$',
  },
  urlencoded: { pattern: "^(?:[\\-%a-zA-Z0-9_.!~*'()]*)$" },
};

// --- schema conversion ------------------------------------------------------------------------

type Role = 'param' | 'response';

interface Context {
  role: Role;
  where: string;
  warn: (message: string) => void;
}

// Booleans arrive as 0/1, as "" from old releases, sometimes as true/false or a numeric string.
const WIRE_BOOLEAN: JsonObject = {
  type: ['boolean', 'integer', 'string'],
  enum: [0, 1, true, false, '', '0', '1'],
};

const NUMBERED_KEY = /^([A-Za-z][A-Za-z0-9_-]*)\[n\]$/;
const PLACEHOLDER_KEY = /^\{[A-Za-z_][A-Za-z0-9_-]*\}$/;

function copyFacts(raw: Raw, out: JsonObject): void {
  if (typeof raw.renderer === 'string') out['x-pve-renderer'] = raw.renderer;
  if (typeof raw.format === 'string') out['x-pve-format'] = raw.format;
  else if (isRaw(raw.format)) out['x-pve-property-string'] = true;
  if (typeof raw.alias === 'string') out['x-pve-alias'] = raw.alias;
  if (typeof raw.keyAlias === 'string') out['x-pve-key-alias'] = raw.keyAlias;
  if (typeof raw.requires === 'string') out['x-pve-requires'] = raw.requires;
  if (perlTrue(raw.default_key)) out['x-pve-default-key'] = true;
  if (typeof raw['type-property'] === 'string') out['x-pve-type-property'] = raw['type-property'];
  const instanceTypes = raw['instance-types'];
  if (Array.isArray(instanceTypes)) out['x-pve-instance-types'] = instanceTypes.filter((t): t is string => typeof t === 'string');
  // `links`, `title`, `typetext`, descriptions: presentation and prose, dropped.
}

function enumValues(raw: unknown, type: string | undefined): Json[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const seen = new Set<string>();
  const out: Json[] = [];
  for (const value of raw) {
    const coerced = type === undefined ? (isJson(value) ? value : undefined) : coerce(value, type);
    if (coerced === undefined) continue;
    const key = JSON.stringify(coerced);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(coerced);
  }
  return out.length > 0 ? out : undefined;
}

function addPattern(out: JsonObject, source: unknown, ctx: Context): void {
  if (typeof source !== 'string') return;
  const result = translatePerlPattern(source);
  if (result.ok) out.pattern = result.pattern;
  else ctx.warn(`${ctx.where}: pattern ${JSON.stringify(source)} dropped (${result.reason})`);
}

function convertString(raw: Raw, ctx: Context): JsonObject {
  const out: JsonObject = { type: 'string' };
  const minLength = toInteger(raw.minLength);
  const maxLength = toInteger(raw.maxLength);
  if (minLength !== undefined && minLength >= 0) out.minLength = minLength;
  if (maxLength !== undefined && maxLength >= 0) out.maxLength = maxLength;
  addPattern(out, raw.pattern, ctx);
  const values = enumValues(raw.enum, 'string');
  if (values) out.enum = values;
  // Named formats guard input; in answers they are descriptive only and stay an extension.
  const named = typeof raw.format === 'string' ? NAMED_FORMATS[raw.format] : undefined;
  if (named && ctx.role === 'param') {
    if (named.pattern !== undefined) {
      // Proxmox checks both the format and an explicit pattern: keep both.
      if (out.pattern === undefined) out.pattern = named.pattern;
      else if (out.pattern !== named.pattern) out.allOf = [{ pattern: named.pattern }];
    }
    if (named.minLength !== undefined && (minLength === undefined || named.minLength > minLength)) out.minLength = named.minLength;
    if (named.maxLength !== undefined && (maxLength === undefined || named.maxLength < maxLength)) out.maxLength = named.maxLength;
  }
  return out;
}

function convertNumber(raw: Raw, type: 'integer' | 'number', ctx: Context): JsonObject {
  // Older releases send numbers as strings in some lists ("vmid": "106"): answers allow both.
  const out: JsonObject = { type: ctx.role === 'param' ? type : [type, 'string'] };
  const read = type === 'integer' ? toInteger : toNumber;
  let minimum = read(raw.minimum);
  let maximum = read(raw.maximum);
  const named = typeof raw.format === 'string' ? NAMED_FORMATS[raw.format] : undefined;
  if (named && ctx.role === 'param') {
    if (named.minimum !== undefined && (minimum === undefined || named.minimum > minimum)) minimum = named.minimum;
    if (named.maximum !== undefined && (maximum === undefined || named.maximum < maximum)) maximum = named.maximum;
  }
  if (minimum !== undefined) out.minimum = minimum;
  if (maximum !== undefined) out.maximum = maximum;
  const values = enumValues(raw.enum, type);
  if (values) out.enum = values;
  return out;
}

function convertObject(raw: Raw, ctx: Context): JsonObject {
  const out: JsonObject = { type: 'object' };
  const properties: JsonObject = {};
  const patternProperties: JsonObject = {};
  const placeholders: JsonObject[] = [];
  const required: string[] = [];
  if (isRaw(raw.properties)) {
    for (const [name, sub] of Object.entries(raw.properties)) {
      const subCtx = { ...ctx, where: `${ctx.where}.${name}` };
      const numbered = NUMBERED_KEY.exec(name);
      if (numbered) {
        // `net[n]` stands for net0, net1, ...: one schema for the whole numbered family.
        patternProperties[`^(?:${numbered[1] ?? ''}\\d+)$`] = convertSchema(sub, subCtx);
        continue;
      }
      if (PLACEHOLDER_KEY.test(name)) {
        // `{id}` stands for any key (a map keyed by ID): it describes the values.
        placeholders.push(convertSchema(sub, subCtx));
        continue;
      }
      properties[name] = convertSchema(sub, subCtx);
      if (!isOptional(sub)) required.push(name);
    }
  }
  if (Object.keys(properties).length > 0) out.properties = properties;
  if (Object.keys(patternProperties).length > 0) out.patternProperties = patternProperties;
  if (required.length > 0) out.required = required.sort();
  const additional = raw.additionalProperties;
  if (placeholders.length > 0) {
    out.additionalProperties = placeholders.length === 1 ? (placeholders[0] ?? {}) : { anyOf: placeholders };
  } else if (isRaw(additional)) {
    out.additionalProperties = convertSchema(additional, { ...ctx, where: `${ctx.where}.*` });
  } else if (additional !== undefined) {
    const allowed = perlTrue(additional);
    // Answers stay open: hosts newer than the pin add fields (BEHAVIOUR.md), so `false` there
    // would reject real answers. Parameters keep the declared closure.
    if (allowed) out.additionalProperties = true;
    else if (ctx.role === 'param') out.additionalProperties = false;
  }
  return out;
}

/** A `oneOf` property may be optional in every variant rather than on itself. */
function isOptional(raw: unknown): boolean {
  if (!isRaw(raw)) return false;
  if (perlTrue(raw.optional)) return true;
  if (Array.isArray(raw.oneOf) && raw.oneOf.length > 0) return raw.oneOf.every((v) => isRaw(v) && perlTrue(v.optional));
  return false;
}

function effectiveType(raw: Raw): string | undefined {
  if (typeof raw.type === 'string') return raw.type;
  if (raw.type === undefined) {
    if (isRaw(raw.properties)) return 'object';
    if (isRaw(raw.items)) return 'array';
  }
  return undefined;
}

export function convertSchema(rawInput: unknown, ctx: Context): JsonObject {
  if (!isRaw(rawInput)) {
    if (rawInput !== undefined) ctx.warn(`${ctx.where}: schema is not an object, left open`);
    return {};
  }
  const raw = rawInput;
  let out: JsonObject;
  if (Array.isArray(raw.oneOf)) {
    // Variants chosen by the value of a sibling (`type-property`); they may overlap, so the
    // honest composition is anyOf.
    const variants = raw.oneOf.map((v, i) => convertSchema(v, { ...ctx, where: `${ctx.where}|${i}` }));
    out = variants.length > 0 ? { anyOf: variants } : {};
  } else {
    const type = effectiveType(raw);
    switch (type) {
      case 'string':
        out = convertString(raw, ctx);
        break;
      case 'integer':
      case 'number':
        out = convertNumber(raw, type, ctx);
        break;
      case 'boolean':
        out = ctx.role === 'param' ? { type: 'boolean', 'x-pve-wire': '0|1' } : { ...WIRE_BOOLEAN };
        break;
      case 'array': {
        out = { type: 'array' };
        if (raw.items !== undefined) out.items = convertSchema(raw.items, { ...ctx, where: `${ctx.where}[]` });
        break;
      }
      case 'object':
        out = convertObject(raw, ctx);
        break;
      case 'null':
        out = { type: 'null' };
        break;
      case 'any':
      case undefined:
        out = {};
        break;
      default:
        ctx.warn(`${ctx.where}: unknown type ${JSON.stringify(type)}, left open`);
        out = {};
    }
    if ('default' in raw && type !== undefined) {
      const value = coerce(raw.default, type);
      const enumList = out.enum;
      if (value !== undefined && (!Array.isArray(enumList) || enumList.some((e) => JSON.stringify(e) === JSON.stringify(value)))) {
        out.default = value;
      }
    }
  }
  copyFacts(raw, out);
  return out;
}

// --- operations -------------------------------------------------------------------------------

// Which answers carry `total` or `changes` beside `data` is not in the schema: Proxmox handlers set
// them with `$rpcenv->set_result_attrib(...)` (pve-manager PVE/API2/Tasks.pm, Nodes.pm, Network.pm,
// Ceph.pm, Replication.pm, Firewall/*). Only these facts are added, and only for paths that exist
// in the converted file; both stay optional because Proxmox sets them conditionally.
const RESULT_ATTRIBUTES: Record<string, Record<string, JsonObject>> = {
  '/nodes/{node}/tasks': { total: { type: 'integer' } },
  '/nodes/{node}/tasks/{upid}/log': { total: { type: 'integer' } },
  '/nodes/{node}/syslog': { total: { type: 'integer' } },
  '/nodes/{node}/ceph/log': { total: { type: 'integer' } },
  '/nodes/{node}/replication/{id}/log': { total: { type: 'integer' } },
  '/nodes/{node}/firewall/log': { total: { type: 'integer' } },
  '/nodes/{node}/qemu/{vmid}/firewall/log': { total: { type: 'integer' } },
  '/nodes/{node}/lxc/{vmid}/firewall/log': { total: { type: 'integer' } },
  // A unified diff of pending /etc/network/interfaces changes; present only when there are some.
  '/nodes/{node}/network': { changes: { type: 'string' } },
};

const ERROR_SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    data: { type: 'null' },
    message: { type: 'string' },
    errors: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

function operationIdFor(path: string): string {
  const slug = path
    .replace(/[{}]/g, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
  return slug === '' ? 'get_root' : `get_${slug}`;
}

function permissionsFact(raw: unknown): JsonObject | undefined {
  if (!isRaw(raw)) return undefined;
  const out: JsonObject = {};
  if (raw.check !== undefined && isJson(raw.check)) out.check = raw.check;
  if (typeof raw.user === 'string') out.user = raw.user;
  return Object.keys(out).length > 0 ? out : undefined;
}

function convertOperation(path: string, op: Raw, ctx: { warn: (m: string) => void }): JsonObject {
  const where = `GET ${path}`;
  const params = isRaw(op.parameters) ? op.parameters : {};
  const props = isRaw(params.properties) ? params.properties : {};
  const pathNames = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
  const parameters: Json[] = [];
  for (const name of pathNames) {
    const schema = convertSchema(props[name] ?? { type: 'string' }, { role: 'param', where: `${where} ${name}`, warn: ctx.warn });
    parameters.push({ name, in: 'path', required: true, schema });
  }
  for (const name of Object.keys(props).sort()) {
    if (pathNames.includes(name)) continue;
    if (NUMBERED_KEY.test(name) || PLACEHOLDER_KEY.test(name)) {
      // A numbered family (`foo[n]`) cannot be one OpenAPI parameter; no GET has one so far.
      ctx.warn(`${where}: query parameter family ${JSON.stringify(name)} skipped`);
      continue;
    }
    const raw = props[name];
    const schema = convertSchema(raw, { role: 'param', where: `${where} ${name}`, warn: ctx.warn });
    parameters.push({ name, in: 'query', required: !isOptional(raw), schema });
  }

  let data: JsonObject = convertSchema(op.returns ?? {}, { role: 'response', where: `${where} returns`, warn: ctx.warn });
  // An optional return value that is absent is sent as `"data": null`.
  if (isRaw(op.returns) && perlTrue(op.returns.optional) && data.type !== 'null') data = { anyOf: [data, { type: 'null' }] };
  const envelope: JsonObject = { data };
  for (const [key, schema] of Object.entries(RESULT_ATTRIBUTES[path] ?? {})) envelope[key] = schema;

  const operation: JsonObject = {
    operationId: operationIdFor(path),
    responses: {
      '200': {
        description: 'Success: the result is in data.',
        content: { 'application/json': { schema: { type: 'object', properties: envelope, required: ['data'] } } },
      },
      default: {
        description: 'Error: the reason is in message or in the HTTP status line.',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/PveError' } } },
      },
    },
  };
  if (parameters.length > 0) operation.parameters = parameters;
  if (typeof op.name === 'string') operation['x-pve-name'] = op.name;
  const permissions = permissionsFact(op.permissions);
  if (permissions) operation['x-pve-permissions'] = permissions;
  if (perlTrue(op.protected)) operation['x-pve-protected'] = true;
  if (typeof op.proxyto === 'string') operation['x-pve-proxyto'] = op.proxyto;
  if (perlTrue(op.allowtoken)) operation['x-pve-allowtoken'] = true;
  if (perlTrue(op.download_allowed)) operation['x-pve-download-allowed'] = true;
  if (perlTrue(op.expose_credentials)) operation['x-pve-expose-credentials'] = true;
  return operation;
}

function collectGets(nodes: unknown[], warn: (m: string) => void): Map<string, Raw> {
  const found = new Map<string, Raw>();
  const visit = (node: unknown): void => {
    if (!isRaw(node)) return;
    const info = node.info;
    if (isRaw(info)) {
      const path = typeof node.path === 'string' ? node.path : undefined;
      for (const [method, op] of Object.entries(info)) {
        if (method.toUpperCase() !== 'GET' || !isRaw(op)) continue;
        if (typeof op.method === 'string' && op.method.toUpperCase() !== 'GET') continue;
        if (path === undefined || !path.startsWith('/')) {
          warn(`GET operation without a usable path skipped (${JSON.stringify(node.path)})`);
          continue;
        }
        if (found.has(path)) warn(`GET ${path} appears twice; the first is kept`);
        else found.set(path, op);
      }
    }
    if (Array.isArray(node.children)) for (const child of node.children) visit(child);
  };
  for (const node of nodes) visit(node);
  return found;
}

export function convertApidoc(text: string, options: ConvertOptions = {}): ConvertResult {
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
  };
  const gets = collectGets(extractApiSchema(text), warn);
  const paths: JsonObject = {};
  const usedIds = new Set<string>();
  for (const path of [...gets.keys()].sort()) {
    const op = gets.get(path);
    if (!op) continue;
    const operation = convertOperation(path, op, { warn });
    const base = operationIdFor(path);
    let id = base;
    for (let n = 2; usedIds.has(id); n++) id = `${base}_${n}`;
    usedIds.add(id);
    operation.operationId = id;
    paths[path] = { get: operation };
  }
  const document: JsonObject = {
    openapi: '3.1.0',
    info: {
      title: 'Proxmox VE API, GET operations (converted from the API viewer schema)',
      version: options.release ?? 'unknown',
    },
    servers: [
      {
        url: 'https://{host}:{port}/api2/json',
        variables: { host: { default: 'localhost' }, port: { default: '8006' } },
      },
    ],
    security: [{ pveApiToken: [] }],
    components: {
      securitySchemes: {
        pveApiToken: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'PVEAPIToken=USER@REALM!TOKENID=SECRET',
        },
      },
      schemas: { PveError: ERROR_SCHEMA },
    },
    paths,
  };
  return { document: sortKeysDeep(document) as JsonObject, warnings, getOperations: gets.size };
}

// --- Perl patterns ------------------------------------------------------------------------------
//
// Translates the Perl regular expressions in Proxmox schemas into ECMAScript (`u` flag) source.
// Proxmox checks a value with `m/^$pattern$/`, Perl semantics, no flags. A translation is either
// faithful (same language of strings, up to the notes below) or refused with a reason; a refused
// pattern is dropped by the converter, never emitted half-translated.
//
// Deliberate differences, all on the strict side:
// - `\d`, `\w`, `\s` and POSIX classes keep ECMAScript's ASCII meaning; Perl widens them to Unicode
//   for character strings. Proxmox identifiers are ASCII, so only exotic input is refused.
// - The caller anchors with `^(?:...)$`; Perl's final `$` also accepts one trailing newline and its
//   textual `^A|B$` leaves a top-level alternation half-anchored. Both are refused here.

type Item = { kind: 'char'; cp: number } | { kind: 'range'; from: number; to: number } | { kind: 'raw'; text: string; caseClosed: boolean };

interface ClassNode {
  type: 'class';
  negated: boolean;
  items: Item[];
}

type Node =
  | { type: 'lit'; cp: number }
  | ClassNode
  | { type: 'escape'; text: string } // class escapes and assertions copied as is: \d \w \s \b ...
  | { type: 'dot'; dotAll: boolean }
  | { type: 'raw'; text: string } // a complete ECMAScript construct (anchors, \R, ...)
  | { type: 'group'; kind: GroupKind; name?: string; index?: number; body: Alternation }
  | { type: 'backref'; index?: number; name?: string }
  | { type: 'quant'; atom: Node; text: string; lazy: boolean; possessive: boolean };

type GroupKind = 'capture' | 'noncapture' | 'atomic' | 'ahead' | 'notahead' | 'behind' | 'notbehind';

interface Alternation {
  branches: Node[][];
}

interface Flags {
  i: boolean;
  s: boolean;
}

class Refused extends Error {}

const SYNTAX_OUTSIDE = new Set('^$\\.*+?()[]{}|/'.split(''));
const SYNTAX_INSIDE = new Set('\\]-^['.split(''));

// Perl's \h and \v (vertical whitespace, not ECMAScript's \v = VT only).
const H_SPACE: Item[] = [
  { kind: 'char', cp: 0x09 },
  { kind: 'char', cp: 0x20 },
  { kind: 'char', cp: 0xa0 },
  { kind: 'char', cp: 0x1680 },
  { kind: 'char', cp: 0x180e },
  { kind: 'range', from: 0x2000, to: 0x200a },
  { kind: 'char', cp: 0x202f },
  { kind: 'char', cp: 0x205f },
  { kind: 'char', cp: 0x3000 },
];
const V_SPACE: Item[] = [
  { kind: 'range', from: 0x0a, to: 0x0d },
  { kind: 'char', cp: 0x85 },
  { kind: 'range', from: 0x2028, to: 0x2029 },
];

// ASCII meaning of the POSIX classes (see the note at the top).
const POSIX: Record<string, Item[]> = {
  alpha: [range('a', 'z'), range('A', 'Z')],
  digit: [range('0', '9')],
  alnum: [range('a', 'z'), range('A', 'Z'), range('0', '9')],
  upper: [range('A', 'Z')],
  lower: [range('a', 'z')],
  xdigit: [range('0', '9'), range('a', 'f'), range('A', 'F')],
  space: [{ kind: 'range', from: 0x09, to: 0x0d }, { kind: 'char', cp: 0x20 }],
  blank: [{ kind: 'char', cp: 0x09 }, { kind: 'char', cp: 0x20 }],
  cntrl: [{ kind: 'range', from: 0x00, to: 0x1f }, { kind: 'char', cp: 0x7f }],
  punct: [range('!', '/'), range(':', '@'), range('[', '`'), range('{', '~')],
  graph: [range('!', '~')],
  print: [range(' ', '~')],
  word: [{ kind: 'raw', text: '\\w', caseClosed: true }],
};

function range(from: string, to: string): Item {
  return { kind: 'range', from: from.codePointAt(0) ?? 0, to: to.codePointAt(0) ?? 0 };
}

class Parser {
  private pos = 0;
  private groupCount = 0;
  readonly names = new Set<string>();

  constructor(private readonly src: string) {}

  parse(): Alternation {
    const result = this.alternation({ i: false, s: false });
    if (this.pos < this.src.length) throw new Refused(`unbalanced ")" at ${this.pos}`);
    return result;
  }

  private peek(offset = 0): string {
    return this.src.charAt(this.pos + offset);
  }

  private alternation(flags: Flags): Alternation {
    const branches: Node[][] = [];
    // `(?i)` changes the flags for the rest of the enclosing group, across `|`.
    const current = { ...flags };
    let branch: Node[] = [];
    while (this.pos < this.src.length) {
      const c = this.peek();
      if (c === ')') break;
      if (c === '|') {
        this.pos++;
        branches.push(branch);
        branch = [];
        continue;
      }
      const atom = this.atom(current);
      if (atom === null) continue;
      branch.push(this.quantified(atom));
    }
    branches.push(branch);
    return { branches };
  }

  private quantified(atom: Node): Node {
    const c = this.peek();
    let text: string | undefined;
    if (c === '*' || c === '+' || c === '?') {
      text = c;
      this.pos++;
    } else if (c === '{') {
      const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.src.slice(this.pos));
      if (m && (m[1] !== '' || (m[2] === ',' && m[3] !== ''))) {
        const min = m[1] === '' ? '0' : m[1];
        text = `{${min ?? '0'}${m[2] ?? ''}${m[3] ?? ''}}`;
        this.pos += m[0].length;
      }
    }
    if (text === undefined) return atom;
    let lazy = false;
    let possessive = false;
    if (this.peek() === '?') {
      lazy = true;
      this.pos++;
    } else if (this.peek() === '+') {
      possessive = true;
      this.pos++;
    }
    const next = this.src.slice(this.pos);
    if (/^[*+?]/.test(next) || /^\{(?:\d+,?\d*|,\d+)\}/.test(next)) throw new Refused('nested quantifier');
    return { type: 'quant', atom, text, lazy, possessive };
  }

  private atom(flags: Flags): Node | null {
    const c = this.peek();
    this.pos++;
    switch (c) {
      case '(':
        return this.group(flags);
      case '[':
        return this.charClass(flags);
      case '.':
        return { type: 'dot', dotAll: flags.s };
      case '^':
        return { type: 'raw', text: '^' };
      case '$':
        // Perl: end of string, or before a newline that ends it.
        return { type: 'raw', text: '(?=\\n?$)' };
      case '\\':
        return this.escape(flags);
      case '*':
      case '+':
      case '?':
        throw new Refused(`quantifier "${c}" without an operand`);
      default: {
        const cp = this.src.codePointAt(this.pos - 1) ?? 0;
        if (cp > 0xffff) this.pos++;
        return this.literal(cp, flags);
      }
    }
  }

  private literal(cp: number, flags: Flags): Node {
    if (flags.i && hasCase(cp)) {
      if (!isAsciiLetter(cp)) throw new Refused('case-insensitive non-ASCII letter');
      return { type: 'class', negated: false, items: caseClose([{ kind: 'char', cp }]) };
    }
    return { type: 'lit', cp };
  }

  private group(flags: Flags): Node | null {
    if (this.peek() === '*') throw new Refused('backtracking control verb');
    if (this.peek() !== '?') {
      const index = ++this.groupCount;
      const body = this.alternation(flags);
      this.expect(')');
      return { type: 'group', kind: 'capture', index, body };
    }
    this.pos++;
    const c = this.peek();
    const rest = this.src.slice(this.pos);
    if (c === '#') {
      const end = this.src.indexOf(')', this.pos);
      if (end < 0) throw new Refused('unterminated comment');
      this.pos = end + 1;
      return null;
    }
    const simple: Record<string, GroupKind> = { ':': 'noncapture', '>': 'atomic', '=': 'ahead', '!': 'notahead' };
    if (c in simple) {
      this.pos++;
      return this.finishGroup(simple[c] ?? 'noncapture', flags);
    }
    if (rest.startsWith('<=') || rest.startsWith('<!')) {
      this.pos += 2;
      return this.finishGroup(rest.startsWith('<=') ? 'behind' : 'notbehind', flags);
    }
    const named = /^(?:P?<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)')/.exec(rest);
    if (named) {
      this.pos += named[0].length;
      const name = named[1] ?? named[2] ?? '';
      this.names.add(name);
      const index = ++this.groupCount;
      const body = this.alternation(flags);
      this.expect(')');
      return { type: 'group', kind: 'capture', name, index, body };
    }
    // Flag groups: (?^:...), (?^i:...), (?i-s:...), (?i)
    const flagMatch = /^(\^?)([a-z]*)(?:-([a-z]*))?([:)])/.exec(rest);
    if (flagMatch) {
      const reset = flagMatch[1] === '^';
      const on = flagMatch[2] ?? '';
      const off = flagMatch[3] ?? '';
      const next: Flags = reset ? { i: false, s: false } : { ...flags };
      for (const f of on) applyFlag(next, f, true);
      for (const f of off) applyFlag(next, f, false);
      this.pos += flagMatch[0].length;
      if (flagMatch[4] === ')') {
        // Applies to the rest of the enclosing group.
        flags.i = next.i;
        flags.s = next.s;
        return null;
      }
      const body = this.alternation(next);
      this.expect(')');
      return { type: 'group', kind: 'noncapture', body };
    }
    throw new Refused(`unsupported group "(?${rest.slice(0, 2)}"`);
  }

  private finishGroup(kind: GroupKind, flags: Flags): Node {
    const body = this.alternation({ ...flags });
    this.expect(')');
    return { type: 'group', kind, body };
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) throw new Refused(`expected "${ch}" at ${this.pos}`);
    this.pos++;
  }

  /** Escapes that mean one character, shared by both contexts. Returns undefined if not one. */
  private charEscape(c: string): number | undefined {
    const simple: Record<string, number> = { n: 0x0a, t: 0x09, r: 0x0d, f: 0x0c, e: 0x1b, a: 0x07 };
    if (c in simple) return simple[c];
    if (c === 'x') {
      const braced = /^\{([0-9A-Fa-f]{1,6})\}/.exec(this.src.slice(this.pos));
      if (braced) {
        this.pos += braced[0].length;
        return parseInt(braced[1] ?? '0', 16);
      }
      const short = /^[0-9A-Fa-f]{0,2}/.exec(this.src.slice(this.pos));
      const digits = short?.[0] ?? '';
      this.pos += digits.length;
      return digits === '' ? 0 : parseInt(digits, 16);
    }
    if (c === '0') {
      const oct = /^[0-7]{0,2}/.exec(this.src.slice(this.pos))?.[0] ?? '';
      this.pos += oct.length;
      return parseInt(`0${oct}`, 8);
    }
    if (c === 'o') {
      const braced = /^\{([0-7]{1,7})\}/.exec(this.src.slice(this.pos));
      if (!braced) throw new Refused('bad \\o escape');
      this.pos += braced[0].length;
      return parseInt(braced[1] ?? '0', 8);
    }
    if (c === 'c') {
      const ch = this.peek();
      if (ch === '') throw new Refused('bad \\c escape');
      this.pos++;
      return (ch.toUpperCase().codePointAt(0) ?? 0) ^ 0x40;
    }
    if (c !== '' && !/[A-Za-z0-9]/.test(c)) return c.codePointAt(0);
    return undefined;
  }

  private escape(flags: Flags): Node {
    const c = this.peek();
    this.pos++;
    if ('dwsDWS'.includes(c) && c !== '') return { type: 'escape', text: `\\${c}` };
    if (c === 'b' || c === 'B') return { type: 'escape', text: `\\${c}` };
    if (c === 'A') return { type: 'raw', text: '^' };
    if (c === 'z') return { type: 'raw', text: '$' };
    if (c === 'Z') return { type: 'raw', text: '(?=\\n?$)' };
    if (c === 'h' || c === 'H') return { type: 'class', negated: c === 'H', items: H_SPACE };
    if (c === 'v' || c === 'V') return { type: 'class', negated: c === 'V', items: V_SPACE };
    if (c === 'R') return { type: 'raw', text: '(?:\\r\\n|[\\n\\v\\f\\r\\u0085\\u2028\\u2029])' };
    if (c === 'N' && this.peek() !== '{') return { type: 'class', negated: true, items: [{ kind: 'char', cp: 0x0a }] };
    if (/[1-9]/.test(c)) {
      const digits = c + (/^\d*/.exec(this.src.slice(this.pos))?.[0] ?? '');
      if (digits.length > 1) throw new Refused('ambiguous \\NN escape');
      return { type: 'backref', index: Number(digits) };
    }
    if (c === 'g') {
      const m = /^(?:\{(\d+)\}|(\d+))/.exec(this.src.slice(this.pos));
      if (!m) throw new Refused('unsupported \\g reference');
      this.pos += m[0].length;
      return { type: 'backref', index: Number(m[1] ?? m[2]) };
    }
    if (c === 'k') {
      const m = /^(?:<(\w+)>|\{(\w+)\}|'(\w+)')/.exec(this.src.slice(this.pos));
      if (!m) throw new Refused('bad \\k reference');
      this.pos += m[0].length;
      return { type: 'backref', name: m[1] ?? m[2] ?? m[3] ?? '' };
    }
    const cp = this.charEscape(c);
    if (cp === undefined) throw new Refused(`unsupported escape "\\${c}"`);
    return this.literal(cp, flags);
  }

  private classAtom(): Item | Item[] {
    const c = this.peek();
    if (c === '[') {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos));
      if (posix) {
        if (posix[1] === '^') throw new Refused('negated POSIX class');
        const items = POSIX[posix[2] ?? ''];
        if (!items) throw new Refused(`unknown POSIX class "${posix[2] ?? ''}"`);
        this.pos += posix[0].length;
        return items;
      }
    }
    if (c === '\\') {
      this.pos++;
      const e = this.peek();
      this.pos++;
      if ('dwsDWS'.includes(e) && e !== '') return { kind: 'raw', text: `\\${e}`, caseClosed: true };
      if (e === 'h') return H_SPACE;
      if (e === 'v') return V_SPACE;
      if (e === 'b') return { kind: 'char', cp: 0x08 };
      if (e === 'H' || e === 'V' || e === 'N' || e === 'R') throw new Refused(`"\\${e}" inside a class`);
      const cp = this.charEscape(e);
      if (cp === undefined) throw new Refused(`unsupported escape "\\${e}" inside a class`);
      return { kind: 'char', cp };
    }
    if (c === '') throw new Refused('unterminated character class');
    const cp = this.src.codePointAt(this.pos) ?? 0;
    this.pos += cp > 0xffff ? 2 : 1;
    return { kind: 'char', cp };
  }

  private charClass(flags: Flags): Node {
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    const items: Item[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === '') throw new Refused('unterminated character class');
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const start = this.classAtom();
      if (!Array.isArray(start) && start.kind === 'char' && this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '') {
        const save = this.pos;
        this.pos++;
        const end = this.classAtom();
        if (!Array.isArray(end) && end.kind === 'char') {
          if (end.cp < start.cp) throw new Refused('invalid range in class');
          items.push({ kind: 'range', from: start.cp, to: end.cp });
          continue;
        }
        // Perl reads `a-\d` as "a", "-", digits.
        this.pos = save + 1;
        items.push(start, { kind: 'char', cp: 0x2d });
        continue;
      }
      if (Array.isArray(start)) items.push(...start);
      else items.push(start);
    }
    let finalItems = items;
    if (flags.i) {
      for (const item of items) {
        if (item.kind === 'char' && hasCase(item.cp) && !isAsciiLetter(item.cp)) throw new Refused('case-insensitive non-ASCII letter');
        if (item.kind === 'range' && item.to > 0x7f && item.from <= 0xffff && rangeHasNonAsciiCase(item)) {
          throw new Refused('case-insensitive non-ASCII range');
        }
      }
      finalItems = caseClose(items);
    }
    return { type: 'class', negated, items: finalItems };
  }
}

function applyFlag(flags: Flags, f: string, on: boolean): void {
  if (f === 'i') flags.i = on;
  else if (f === 's') flags.s = on;
  // `m`, `x` and `n` change how the rest reads; only their absence is faithful.
  else if ((f === 'm' || f === 'x' || f === 'n') && on) throw new Refused(`flag "${f}"`);
  else if (!['m', 'x', 'n', 'a', 'u', 'l', 'd', 'p'].includes(f)) throw new Refused(`flag "${f}"`);
  else if (['a', 'l'].includes(f) && on) throw new Refused(`flag "${f}"`);
}

function hasCase(cp: number): boolean {
  const ch = String.fromCodePoint(cp);
  return ch.toLowerCase() !== ch.toUpperCase();
}

function isAsciiLetter(cp: number): boolean {
  return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
}

function rangeHasNonAsciiCase(item: { from: number; to: number }): boolean {
  const lo = Math.max(item.from, 0x80);
  const hi = Math.min(item.to, 0x2fff);
  for (let cp = lo; cp <= hi; cp++) if (hasCase(cp)) return true;
  return item.to > 0x2fff;
}

/** Adds the other-case ASCII counterpart of every ASCII letter the items cover. */
function caseClose(items: Item[]): Item[] {
  const out = [...items];
  const add = (from: number, to: number, delta: number): void => {
    if (from <= to) out.push(from === to ? { kind: 'char', cp: from + delta } : { kind: 'range', from: from + delta, to: to + delta });
  };
  for (const item of items) {
    const [from, to] = item.kind === 'char' ? [item.cp, item.cp] : item.kind === 'range' ? [item.from, item.to] : [1, 0];
    add(Math.max(from, 0x61), Math.min(to, 0x7a), -0x20);
    add(Math.max(from, 0x41), Math.min(to, 0x5a), 0x20);
  }
  return out;
}

function renderChar(cp: number, syntax: Set<string>): string {
  const ch = String.fromCodePoint(cp);
  if (cp < 0x20 || cp > 0x7e) {
    return `\\u{${cp.toString(16).toUpperCase()}}`;
  }
  return syntax.has(ch) ? `\\${ch}` : ch;
}

function renderClass(node: ClassNode): string {
  const parts = node.items.map((item) => {
    if (item.kind === 'char') return renderChar(item.cp, SYNTAX_INSIDE);
    if (item.kind === 'range') return `${renderChar(item.from, SYNTAX_INSIDE)}-${renderChar(item.to, SYNTAX_INSIDE)}`;
    return item.text;
  });
  return `[${node.negated ? '^' : ''}${parts.join('')}]`;
}

class Renderer {
  private count = 0;
  private readonly map = new Map<number, number>();

  alternation(alt: Alternation): string {
    return alt.branches.map((b) => b.map((n) => this.node(n)).join('')).join('|');
  }

  private node(n: Node): string {
    switch (n.type) {
      case 'lit':
        return renderChar(n.cp, SYNTAX_OUTSIDE);
      case 'class':
        return renderClass(n);
      case 'escape':
      case 'raw':
        return n.text;
      case 'dot':
        return n.dotAll ? '[\\s\\S]' : '[^\\n]';
      case 'backref': {
        if (n.name !== undefined) return `\\k<${n.name}>`;
        const mapped = this.map.get(n.index ?? 0);
        if (mapped === undefined) throw new Refused('reference to a group not yet closed or absent');
        return `(?:\\${mapped})`;
      }
      case 'group':
        return this.group(n.kind, n.body, n.index, n.name);
      case 'quant': {
        const q = n.text + (n.lazy ? '?' : '');
        if (!n.possessive) return this.node(n.atom) + q;
        // X*+ is (?>X*): a lookahead captures what the greedy match takes, the backreference
        // consumes exactly that, and nothing can backtrack into it.
        const slot = ++this.count;
        return `(?=(${this.node(n.atom)}${n.text}))(?:\\${slot})`;
      }
    }
  }

  private group(kind: GroupKind, body: Alternation, index?: number, name?: string): string {
    switch (kind) {
      case 'capture': {
        const slot = ++this.count;
        if (index !== undefined) this.map.set(index, slot);
        return name === undefined ? `(${this.alternation(body)})` : `(?<${name}>${this.alternation(body)})`;
      }
      case 'atomic': {
        const slot = ++this.count;
        return `(?=(${this.alternation(body)}))(?:\\${slot})`;
      }
      case 'noncapture':
        return `(?:${this.alternation(body)})`;
      case 'ahead':
        return `(?=${this.alternation(body)})`;
      case 'notahead':
        return `(?!${this.alternation(body)})`;
      case 'behind':
        return `(?<=${this.alternation(body)})`;
      case 'notbehind':
        return `(?<!${this.alternation(body)})`;
    }
  }
}

export type PatternTranslation = { ok: true; pattern: string } | { ok: false; reason: string };

/** Translates a Proxmox (Perl) pattern into an anchored ECMAScript pattern valid with the `u` flag. */
export function translatePerlPattern(source: string): PatternTranslation {
  try {
    const ast = new Parser(source).parse();
    const body = new Renderer().alternation(ast);
    const pattern = `^(?:${body})$`;
    new RegExp(pattern, 'u');
    return { ok: true, pattern };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, reason: error.message };
    if (error instanceof SyntaxError) return { ok: false, reason: `does not compile: ${error.message}` };
    throw error;
  }
}
