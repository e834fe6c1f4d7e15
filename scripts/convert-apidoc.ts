// Converts a Proxmox `apidoc.js` (the API viewer's data file) into an OpenAPI 3.1 document that holds
// every GET operation and nothing else. Pure: text in, object and warnings out. Two dialects of the
// same tree: Proxmox VE's (schemas written by Perl: 0/1 flags, Perl patterns, named formats,
// permission arrays) and Proxmox Backup Server's (written from Rust types: JSON booleans, Rust
// patterns between slashes, permission objects). See `Dialect` below.
//
// The file is JavaScript, not JSON. It is never evaluated: the array literal assigned to
// `apiSchema` is located, bracket-matched and parsed as JSON. The output carries facts only
// (types, bounds, enums, patterns, permissions as structured data), never Proxmox's prose.

import { translatePattern, type PatternTranslation } from './regex-translate.js';

/** Bump when the output for the same input changes; recorded in the lock file. */
export const CONVERTER_VERSION = 1;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type ApiId = 'pve' | 'pbs';

export interface ConvertOptions {
  /** The release the file came from (pve-docs version, or a PBS file's date); `info.version`. */
  release?: string;
  /** Which Proxmox API's dialect the file is written in (default: pve). */
  api?: ApiId;
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
  dialect: Dialect;
}

/** What differs between the two APIs' files and pins; everything else is converted alike. */
interface Dialect {
  api: ApiId;
  /** Prefix of the facts the output carries beside JSON Schema (`x-pve-format`, ...). */
  x: string;
  pattern: (source: string) => PatternTranslation;
  /** Input constraints of named formats (Proxmox VE only). */
  namedFormats: Record<string, NamedFormat>;
  /** The schema of a boolean in an answer. */
  answerBoolean: JsonObject;
  /** Whether answers may carry numbers as strings (old Proxmox VE releases do). */
  looseAnswerNumbers: boolean;
  resultAttributes: Record<string, Record<string, JsonObject>>;
  title: string;
  port: string;
  security: { name: string; description: string };
  errorName: string;
  errorSchema: JsonObject;
}


const NUMBERED_KEY = /^([A-Za-z][A-Za-z0-9_-]*)\[n\]$/;
const PLACEHOLDER_KEY = /^\{[A-Za-z_][A-Za-z0-9_-]*\}$/;

function copyFacts(raw: Raw, out: JsonObject, x: string): void {
  if (typeof raw.renderer === 'string') out[`${x}-renderer`] = raw.renderer;
  if (typeof raw.format === 'string') out[`${x}-format`] = raw.format;
  else if (isRaw(raw.format)) out[`${x}-property-string`] = true;
  if (typeof raw.alias === 'string') out[`${x}-alias`] = raw.alias;
  if (typeof raw.keyAlias === 'string') out[`${x}-key-alias`] = raw.keyAlias;
  if (typeof raw.requires === 'string') out[`${x}-requires`] = raw.requires;
  if (perlTrue(raw.default_key)) out[`${x}-default-key`] = true;
  if (typeof raw['type-property'] === 'string') out[`${x}-type-property`] = raw['type-property'];
  const instanceTypes = raw['instance-types'];
  if (Array.isArray(instanceTypes)) out[`${x}-instance-types`] = instanceTypes.filter((t): t is string => typeof t === 'string');
  // `links`, `title`, `typetext`, descriptions: presentation and prose, dropped.
  if (raw.unstable === true) out[`${x}-unstable`] = true;
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
  const result = ctx.dialect.pattern(source);
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
  const named = typeof raw.format === 'string' ? ctx.dialect.namedFormats[raw.format] : undefined;
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
  const out: JsonObject = { type: ctx.role === 'param' || !ctx.dialect.looseAnswerNumbers ? type : [type, 'string'] };
  const read = type === 'integer' ? toInteger : toNumber;
  let minimum = read(raw.minimum);
  let maximum = read(raw.maximum);
  const named = typeof raw.format === 'string' ? ctx.dialect.namedFormats[raw.format] : undefined;
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
        out = ctx.role === 'param' ? { type: 'boolean', [`${ctx.dialect.x}-wire`]: '0|1' } : { ...ctx.dialect.answerBoolean };
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
  copyFacts(raw, out, ctx.dialect.x);
  return out;
}

// --- operations -------------------------------------------------------------------------------

// Which answers carry `total` or `changes` beside `data` is not in the schema: Proxmox handlers set
// them with `$rpcenv->set_result_attrib(...)` (pve-manager PVE/API2/Tasks.pm, Nodes.pm, Network.pm,
// Ceph.pm, Replication.pm, Firewall/*). Only these facts are added, and only for paths that exist
// in the converted file; both stay optional because Proxmox sets them conditionally.
const PVE_RESULT_ATTRIBUTES: Record<string, Record<string, JsonObject>> = {
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

// Proxmox Backup Server sets them through `rpcenv["total"]` (proxmox-backup src/api2/node/tasks.rs):
// the task list's total, and the task log's total lines and whether the task still runs.
const PBS_RESULT_ATTRIBUTES: Record<string, Record<string, JsonObject>> = {
  '/nodes/{node}/tasks': { total: { type: 'integer' } },
  '/nodes/{node}/tasks/{upid}/log': { total: { type: 'integer' }, active: { type: 'boolean' } },
};

const PVE_ERROR_SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    data: { type: 'null' },
    message: { type: 'string' },
    errors: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/** Where Proxmox VE writes each file's facts: 0/1 flags, Perl patterns, named formats. */
const PVE_DIALECT: Dialect = {
  api: 'pve',
  x: 'x-pve',
  pattern: (source) => translatePattern(source, 'perl'),
  namedFormats: NAMED_FORMATS,
  // Booleans arrive as 0/1, as "" from old releases, sometimes as true/false or a numeric string.
  answerBoolean: { type: ['boolean', 'integer', 'string'], enum: [0, 1, true, false, '', '0', '1'] },
  looseAnswerNumbers: true,
  resultAttributes: PVE_RESULT_ATTRIBUTES,
  title: 'Proxmox VE API, GET operations (converted from the API viewer schema)',
  port: '8006',
  security: { name: 'pveApiToken', description: 'PVEAPIToken=USER@REALM!TOKENID=SECRET' },
  errorName: 'PveError',
  errorSchema: PVE_ERROR_SCHEMA,
};

/** Proxmox Backup Server's schema comes from Rust types: JSON values as typed, Rust patterns. */
const PBS_DIALECT: Dialect = {
  api: 'pbs',
  x: 'x-pbs',
  pattern: (source) => {
    // Written as `/.../` (the viewer prints the regex crate's source between slashes).
    const inner = source.length >= 2 && source.startsWith('/') && source.endsWith('/') ? source.slice(1, -1) : source;
    return translatePattern(inner, 'rust');
  },
  namedFormats: {},
  answerBoolean: { type: 'boolean' },
  looseAnswerNumbers: false,
  resultAttributes: PBS_RESULT_ATTRIBUTES,
  title: 'Proxmox Backup Server API, GET operations (converted from the API viewer schema)',
  port: '8007',
  security: { name: 'pbsApiToken', description: 'PBSAPIToken=USER@REALM!TOKENID:SECRET' },
  errorName: 'PbsError',
  // The body is the message as plain text, although the Content-Type header says JSON.
  errorSchema: { type: 'string' },
};

export const DIALECTS: Record<ApiId, Dialect> = { pve: PVE_DIALECT, pbs: PBS_DIALECT };

function operationIdFor(path: string): string {
  const slug = path
    .replace(/[{}]/g, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
  return slug === '' ? 'get_root' : `get_${slug}`;
}

/**
 * The permission check as structured data, prose left out. Proxmox VE writes arrays under `check`
 * (`["perm", "/path", ["Priv"]]`); Proxmox Backup Server writes objects (`{"check": {"path": [...],
 * "privs": [...], "partial": false}}`, `{"or": [...]}`, `{"userParam": "userid"}`).
 */
function permissionsFact(raw: unknown): JsonObject | undefined {
  if (!isRaw(raw)) return undefined;
  const out: JsonObject = {};
  if (raw.check !== undefined && isJson(raw.check)) out.check = raw.check;
  if (typeof raw.user === 'string') out.user = raw.user;
  if (typeof raw.userParam === 'string') out.userParam = raw.userParam;
  for (const key of ['or', 'and'] as const) {
    const list = raw[key];
    if (Array.isArray(list)) out[key] = list.map((sub) => permissionsFact(sub) ?? {});
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function convertOperation(path: string, op: Raw, ctx: { warn: (m: string) => void; dialect: Dialect }): JsonObject {
  const where = `GET ${path}`;
  const { dialect } = ctx;
  const x = dialect.x;
  const params = isRaw(op.parameters) ? op.parameters : {};
  const props = isRaw(params.properties) ? params.properties : {};
  const pathNames = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
  const parameters: Json[] = [];
  for (const name of pathNames) {
    const schema = convertSchema(props[name] ?? { type: 'string' }, { role: 'param', where: `${where} ${name}`, warn: ctx.warn, dialect });
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
    const schema = convertSchema(raw, { role: 'param', where: `${where} ${name}`, warn: ctx.warn, dialect });
    parameters.push({ name, in: 'query', required: !isOptional(raw), schema });
  }

  let data: JsonObject = convertSchema(op.returns ?? {}, { role: 'response', where: `${where} returns`, warn: ctx.warn, dialect });
  // An optional return value that is absent is sent as `"data": null`.
  if (isRaw(op.returns) && perlTrue(op.returns.optional) && data.type !== 'null') data = { anyOf: [data, { type: 'null' }] };
  const envelope: JsonObject = { data };
  for (const [key, schema] of Object.entries(dialect.resultAttributes[path] ?? {})) envelope[key] = schema;

  const operation: JsonObject = {
    operationId: operationIdFor(path),
    responses: {
      '200': {
        description: 'Success: the result is in data.',
        content: { 'application/json': { schema: { type: 'object', properties: envelope, required: ['data'] } } },
      },
      default:
        dialect.api === 'pbs'
          ? {
              description: 'Error: the reason is the plain-text body, sent under a JSON content type.',
              content: { 'text/plain': { schema: { $ref: `#/components/schemas/${dialect.errorName}` } } },
            }
          : {
              description: 'Error: the reason is in message or in the HTTP status line.',
              content: { 'application/json': { schema: { $ref: `#/components/schemas/${dialect.errorName}` } } },
            },
    },
  };
  if (parameters.length > 0) operation.parameters = parameters;
  if (typeof op.name === 'string') operation[`${x}-name`] = op.name;
  const permissions = permissionsFact(op.permissions);
  if (permissions) operation[`${x}-permissions`] = permissions;
  if (perlTrue(op.protected)) operation[`${x}-protected`] = true;
  if (typeof op.proxyto === 'string') operation[`${x}-proxyto`] = op.proxyto;
  if (perlTrue(op.allowtoken)) operation[`${x}-allowtoken`] = true;
  if (perlTrue(op.download_allowed)) operation[`${x}-download-allowed`] = true;
  if (perlTrue(op.expose_credentials)) operation[`${x}-expose-credentials`] = true;
  if (typeof op.method === 'string' && op.method.toUpperCase() === 'DOWNLOAD') operation[`${x}-download`] = true;
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
        // Proxmox Backup Server names GETs whose handler may stream the answer DOWNLOAD: on the
        // wire they are GETs, and the operation says so (`x-pbs-download`).
        if (typeof op.method === 'string' && !['GET', 'DOWNLOAD'].includes(op.method.toUpperCase())) continue;
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
  const dialect = DIALECTS[options.api ?? 'pve'];
  const gets = collectGets(extractApiSchema(text), warn);
  const paths: JsonObject = {};
  const usedIds = new Set<string>();
  for (const path of [...gets.keys()].sort()) {
    const op = gets.get(path);
    if (!op) continue;
    const operation = convertOperation(path, op, { warn, dialect });
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
      title: dialect.title,
      version: options.release ?? 'unknown',
    },
    servers: [
      {
        url: 'https://{host}:{port}/api2/json',
        variables: { host: { default: 'localhost' }, port: { default: dialect.port } },
      },
    ],
    security: [{ [dialect.security.name]: [] }],
    components: {
      securitySchemes: {
        [dialect.security.name]: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: dialect.security.description,
        },
      },
      schemas: { [dialect.errorName]: dialect.errorSchema },
    },
    paths,
  };
  return { document: sortKeysDeep(document) as JsonObject, warnings, getOperations: gets.size };
}
