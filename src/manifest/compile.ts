// Turns `tools.yaml` into the compiled manifest the runtime executes, checking it against its own
// schema and against the pinned Proxmox API. Runs at build time (npm run generate) and at start-up
// when a custom manifest is given; the result is plain JSON so it can be prebuilt.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { DEFAULT_API, apiById, deniedReason, type ApiDescription } from '../proxmox/api/index.js';
import { manifestSchema } from './schema.js';
import type { Toolset } from './toolsets.js';
import { describeCheck, isPrivilegeName, permissionCheck, privilegeDisagreement, type ToolPermission } from './permissions.js';

export type JsonSchema = Record<string, unknown>;
export type TypeName = 'bool' | 'int' | 'number' | 'tags' | 'list' | 'bytes' | 'rate' | 'percent' | 'pct' | 'duration' | 'epoch' | 'text';
export type MatchKind = 'equals' | 'contains' | 'substring' | 'min' | 'max' | 'differs';
/** The JSON type a field has in an answer, as its output schema states it. */
export type JsonKind = 'string' | 'number' | 'integer' | 'boolean' | 'array';

/** Percentages are named alike in every answer: a `percent` or `pct` field `cpu` is shown as `cpu_pct`. */
export function shownName(field: string, type: TypeName | undefined): string {
  return (type === 'percent' || type === 'pct') && !field.endsWith('_pct') ? `${field}_pct` : field;
}

export interface CompiledParam {
  arg: string;
  in: 'path' | 'query' | 'filter';
  upstream: string;
  /** Proxmox booleans travel as 0/1. */
  boolean: boolean;
  field: string;
  match: MatchKind;
  /** `differs`: the value a row's field is compared with. */
  value?: string | number | boolean;
  /** An integer argument: a string of digits ("100") is read as the number it spells. */
  integer?: boolean;
}

export interface KeepIf {
  where: Record<string, (string | number | boolean)[]>;
  fields: string[];
}

export interface ErrorRule {
  status?: number;
  match: string;
  message: string;
  result?: Record<string, unknown>;
}

export interface OutputSpec {
  shape: 'list' | 'record' | 'value';
  rows?: Record<string, (string | number | boolean)[]>;
  extras?: Record<string, { where: Record<string, (string | number | boolean)[]>; pluck: string }>;
  types: Record<string, TypeName>;
  derive: Record<string, { percent: [string, string] }>;
  key?: string;
  /** Fields every row starts with, in this order (identity first); typed fields follow as declared. */
  order?: string[];
  /** Fields (dotted paths reach into records) left out unless `fields` names them. */
  hidden?: string[];
  /** Fields that apply only to some rows: left out of rows that do not match `where`. */
  keep_if?: KeepIf[];
  /** The shown field each `sort` value orders by, where they differ (`cpu_pct` sorts by `cpu`). */
  sort_by?: Record<string, string>;
  /** JSON type of each field the output schema names (shown names): a value of another type is left out. */
  kinds: Record<string, JsonKind>;
  sort?: string[];
  fields?: string[];
  pluck?: string;
  /** Fields never returned, not even with fields=["*"]. */
  omit?: string[];
  /** Field renames, applied first (a `key` field would otherwise be redacted as a secret). */
  rename?: Record<string, string>;
  /** When the first field holds a secret's name (`cipassword`), redact the listed fields. */
  redact_by?: Record<string, string[]>;
  /** `list`: keep only rows that have at least one of these fields. */
  rows_with?: string[];
  /** The answer's payload sits under this key (guest-agent answers: `result`). */
  unwrap?: string;
  /** A 200 answer whose payload has this key is a failure (guest-agent `error`). */
  body_error?: string;
  page: number;
  /** The runtime pages the list itself (false when upstream pages). */
  paged: boolean;
  budget?: number;
  errors: ErrorRule[];
}

export interface CompiledTool {
  name: string;
  title: string;
  description: string;
  toolset: Toolset;
  path: string;
  /** For people: what the token needs (the pinned API's check, or what each row of a filtered list needs). */
  privilege: string;
  /** The same, for the server to judge against the token's privileges. */
  permission: ToolPermission;
  /** All four, stated: hosts differ in which they read. */
  annotations: { readOnlyHint: true; destructiveHint: false; idempotentHint: true; openWorldHint: boolean };
  /** What hosts are shown: the argument schema without length limits and patterns, which cost tokens on every turn. */
  inputSchema: JsonSchema;
  /** What arguments are checked against, limits and patterns included. */
  argumentSchema: JsonSchema;
  outputSchema: JsonSchema;
  /** The spec's own rules for every upstream value, checked again before a request is built. */
  upstreamSchema: JsonSchema;
  params: CompiledParam[];
  fixedQuery: Record<string, string>;
  output: OutputSpec;
  /** A built-in tool that is not an entry of tools.yaml: the `api` toolset's (src/tools/api-reader.ts), or get_clusters. */
  generic?: 'get' | 'find' | 'clusters';
}

export interface CompiledManifest {
  tools: CompiledTool[];
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  constructor(
    readonly problems: string[],
    file = 'tools.yaml',
  ) {
    super(`${file} has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  }
}

/** Compiles a manifest for one of the APIs this server speaks, by its id (`pve`, `pbs`). */
export function compileManifestFor(yamlText: string, specDoc: unknown, apiId: string): CompiledManifest {
  const api = apiById(apiId);
  if (api === undefined) throw new Error(`no Proxmox API "${apiId}"`);
  return compileManifest(yamlText, specDoc, api);
}

/** A parameter of a GET in the pinned spec (the manifest compiler and the `api` toolset read the same facts). */
export interface SpecParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: JsonSchema;
}
export interface SpecOperation {
  parameters?: SpecParameter[];
  responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
  'x-pve-permissions'?: unknown;
}
interface SpecDoc {
  paths: Record<string, { get?: SpecOperation } | undefined>;
}

/** The fields of one answer row (list) or of the answer (record), as the pinned spec declares them. */
function returnedFields(op: SpecOperation, shape: string): Record<string, JsonSchema> {
  const data = (op.responses?.['200']?.content?.['application/json']?.schema?.properties as Record<string, JsonSchema> | undefined)?.data;
  const row = shape === 'list' ? (data?.items as JsonSchema | undefined) : data;
  return (row?.properties as Record<string, JsonSchema> | undefined) ?? {};
}

const BOOLEAN_ENUM = JSON.stringify([0, 1, true, false, '', '0', '1']);
const RENDERED: Record<string, TypeName[]> = {
  bytes: ['bytes', 'rate'],
  duration: ['duration'],
  fraction_as_percentage: ['percent'],
  timestamp: ['epoch'],
  timestamp_gmt: ['epoch'],
};

function kindOf(type: TypeName): JsonKind | undefined {
  switch (type) {
    case 'bool':
      return 'boolean';
    case 'int':
      return 'integer';
    case 'number':
    case 'percent':
    case 'pct':
      return 'number';
    case 'tags':
    case 'list':
      return 'array';
    case 'bytes':
    case 'rate':
    case 'duration':
    case 'epoch':
    case 'text':
      return 'string';
  }
}

/**
 * Typed fields the output schema names besides the identity fields: every field that is not a
 * string. Sizes, durations, rates, times and free text are strings in one documented form each
 * (docs/manifest.md); naming each would cost every turn of every conversation ~7 tokens a field.
 */
const NAMED = new Set<TypeName>(['bool', 'int', 'number', 'tags', 'list', 'percent', 'pct']);

const SCHEMA_OF: Record<JsonKind, JsonSchema> = {
  string: { type: 'string' },
  number: { type: 'number' },
  integer: { type: 'integer' },
  boolean: { type: 'boolean' },
  array: { type: 'array' },
};

interface RawParam {
  in?: 'path' | 'query' | 'filter';
  upstream?: string;
  description?: string;
  schema?: JsonSchema;
  required?: boolean;
  field?: string;
  match?: MatchKind;
  value?: string | number | boolean;
}
interface RawTool {
  name: string;
  title: string;
  description: string;
  toolset: Toolset;
  path: string;
  privilege?: string;
  open_world?: boolean;
  query?: Record<string, string | number | boolean>;
  params?: Record<string, RawParam>;
  output?: Omit<Partial<OutputSpec>, 'paged' | 'types' | 'derive' | 'errors' | 'kinds' | 'sort_by'> & {
    types?: Record<string, TypeName>;
    derive?: Record<string, { percent: [string, string] }>;
    errors?: ErrorRule[];
  };
}
interface RawManifest {
  version: 1;
  tools: RawTool[];
}

export const MAX_PAGE = 500;
/** Furthest a page may start: no listing Proxmox gives is longer, and larger numbers print as 1e+21. */
export const MAX_OFFSET = 1_000_000;

/** Drops our `x-` facts so a schema compiles under ajv's strict mode and stays small in tools/list. */
function cleanSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(cleanSchema);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-') || k === 'description' || k === 'title') continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, cleanSchema(pv)])) : cleanSchema(v);
  }
  return out;
}

function typesOf(schema: JsonSchema): string[] {
  const t = schema.type;
  return Array.isArray(t) ? (t as string[]) : typeof t === 'string' ? [t] : [];
}

/** A tool's rule may only narrow the spec's: say how it widens, if it does. */
function wideningProblems(tool: JsonSchema, spec: JsonSchema): string[] {
  const problems: string[] = [];
  const tt = typesOf(tool);
  const st = typesOf(spec);
  if (tt.length === 0) problems.push('needs a type');
  else if (st.length > 0 && !tt.every((t) => st.includes(t) || (t === 'integer' && st.includes('number')))) {
    problems.push(`type ${tt.join('|')} is not the spec's ${st.join('|')}`);
  }
  if (Array.isArray(spec.enum)) {
    if (!Array.isArray(tool.enum)) problems.push('must keep the spec enum (or a subset)');
    else {
      const bad = (tool.enum as unknown[]).filter((v) => !(spec.enum as unknown[]).includes(v));
      if (bad.length > 0) problems.push(`enum values ${JSON.stringify(bad)} are not in the spec`);
    }
  }
  const lower = (k: string): void => {
    if (typeof spec[k] === 'number' && !(typeof tool[k] === 'number' && tool[k] >= spec[k])) problems.push(`${k} must be at least the spec's ${String(spec[k])}`);
  };
  const upper = (k: string): void => {
    if (typeof spec[k] === 'number' && !(typeof tool[k] === 'number' && tool[k] <= spec[k])) problems.push(`${k} must be at most the spec's ${String(spec[k])}`);
  };
  lower('minimum');
  lower('minLength');
  lower('minItems');
  upper('maximum');
  upper('maxLength');
  upper('maxItems');
  // A pattern of the tool's own is not compared with the spec's (regex inclusion cannot be proved):
  // the spec's pattern is still enforced through upstreamSchema.
  return problems;
}

function location(file: string, lines: LineCounter, doc: ReturnType<typeof parseDocument>, path: (string | number)[]): string {
  for (let i = path.length; i >= 0; i--) {
    const node: unknown = doc.getIn(path.slice(0, i), true);
    if (isNode(node) && node.range) {
      const { line } = lines.linePos(node.range[0]);
      return `${file}:${line}`;
    }
  }
  return file;
}

// One instance for every tool: building an Ajv compiles its meta-schemas, which cost more than any
// tool's own schema. No meta-schema check either (compiling the 2020-12 meta-schema costs more than
// all tools together): strict mode still refuses unknown keywords, and Ajv checks each keyword's value
// type while compiling (`enum: "x"`, `maxLength: "8"`), so a schema that compiles here is one Ajv can
// apply. Compiled validators of the spec's parameter rules are kept by their text, since many tools
// share them (node, vmid, ...).
let strictAjv: Ajv2020 | undefined;
const STRICT_AJV = (): Ajv2020 => (strictAjv ??= new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true, validateFormats: false, validateSchema: false }));
const specRules = new Map<string, ValidateFunction>();
function specRule(schema: JsonSchema): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = specRules.get(key);
  if (validate === undefined) {
    validate = STRICT_AJV().compile(schema);
    specRules.set(key, validate);
  }
  return validate;
}

// Left out of tools/list but still checked on every call: lengths, patterns, bounds nobody reaches
// (a VM ID's 999999999), paging bounds (an out-of-range limit gets an error saying the range), and
// additionalProperties (an unknown argument gets an error naming the ones the tool takes).
const UNLISTED = ['maxLength', 'minLength', 'pattern', 'maxItems'];

/** The argument schema as listed in tools/list: bounds a model never needs to read are left out. */
function listed(schema: JsonSchema): JsonSchema {
  const strip = (s: JsonSchema): JsonSchema => {
    const out: JsonSchema = {};
    for (const [k, v] of Object.entries(s)) {
      if (UNLISTED.includes(k)) continue;
      // An enum says its type already.
      if (k === 'type' && s.enum !== undefined) continue;
      // A VM ID's bounds (100 to 999999999) are known to every model that has seen one.
      if (k === 'maximum' && typeof v === 'number' && v >= 1e6) continue;
      if (k === 'minimum' && typeof v === 'number' && (v <= -1e6 || (typeof s.maximum === 'number' && s.maximum >= 1e6))) continue;
      out[k] = k === 'items' && typeof v === 'object' && v !== null ? strip(v as JsonSchema) : v;
    }
    return out;
  };
  const properties = Object.fromEntries(
    Object.entries(schema.properties as Record<string, JsonSchema>).map(([k, v]) => {
      if (k === 'offset') return [k, { type: 'integer' }];
      // The page bounds are what a model gets wrong first: they are shown.
      if (k === 'limit') return [k, { type: 'integer', maximum: v.maximum }];
      return [k, strip(v)];
    }),
  );
  // Unknown arguments are refused: said where there are arguments to confuse them with.
  const out: JsonSchema = Object.keys(properties).length > 0 ? { type: 'object', properties, additionalProperties: false } : { type: 'object', properties };
  if (schema.required !== undefined) out.required = schema.required;
  return out;
}

type RawOutput = NonNullable<RawTool['output']>;

/**
 * The answer conventions (docs/manifest.md), applied and checked where the pinned spec tells: a
 * field the spec renders as bytes, a duration, a fraction or a time, and `tags`, get that type
 * unless tools.yaml types them, and a tool that types them otherwise is refused; flags and numbers
 * are typed from the spec, so they arrive as booleans and numbers; percentages are named `*_pct`.
 * Returns the types, the JSON type of each field the output schema names, and the field each
 * `sort` value orders by.
 */
function conventions(output: RawOutput, returned: Record<string, JsonSchema>, problem: (field: string[], message: string) => void): { types: Record<string, TypeName>; kinds: Record<string, JsonKind>; sortBy: Record<string, string> } {
  const declared = output.types ?? {};
  const types: Record<string, TypeName> = { ...declared };
  const omitted = new Set([...(output.omit ?? []), ...(output.hidden ?? [])]);
  for (const [field, schema] of Object.entries(returned)) {
    if (omitted.has(field)) continue;
    const rendered = schema['x-pve-renderer'];
    const renderer = typeof rendered === 'string' ? rendered : undefined;
    const wanted = renderer !== undefined ? RENDERED[renderer] : field === 'tags' ? (['tags'] as TypeName[]) : undefined;
    const have = declared[field];
    if (wanted !== undefined) {
      if (have === undefined) types[field] = wanted[0] ?? 'text';
      else if (!wanted.includes(have)) problem(['types', field], `Proxmox sends ${field} as ${renderer ?? 'a separated string'}: type it ${wanted.join(' or ')} (or omit it), so it reads like every other such field`);
      continue;
    }
    if (have !== undefined) continue;
    const t = typesOf(schema);
    if (JSON.stringify(schema.enum) === BOOLEAN_ENUM) types[field] = 'bool';
    else if (t.includes('integer')) types[field] = 'int';
    else if (t.includes('number')) types[field] = 'number';
  }
  for (const name of Object.keys(output.derive ?? {})) {
    if (!name.endsWith('_pct')) problem(['derive', name], 'a percentage is named *_pct (for example mem_used_pct)');
  }
  const kinds: Record<string, JsonKind> = {};
  const hidden = new Set(output.hidden ?? []);
  for (const field of output.order ?? []) {
    const type = declared[field] ?? types[field];
    // An identity field the spec gives no other type (or does not describe, as in guest-agent answers) is a name: a string.
    const specTypes = typesOf(returned[field] ?? {});
    const kind = type !== undefined ? kindOf(type) : specTypes.length === 0 || specTypes.join() === 'string' ? 'string' : undefined;
    if (kind !== undefined) kinds[shownName(field, type)] = kind;
  }
  for (const [field, type] of Object.entries(declared)) {
    // Free text and ISO 8601 times are strings that say what they are: naming them would cost every
    // turn tokens for nothing (identity fields are named all the same).
    if (field.includes('.') || omitted.has(field) || hidden.has(field) || !NAMED.has(type)) continue;
    // A typed list (a node's load averages) is a list of such values.
    const kind = typesOf(returned[field] ?? {}).includes('array') ? 'array' : kindOf(type);
    if (kind !== undefined) kinds[shownName(field, type)] = kind;
  }
  for (const name of Object.keys(output.derive ?? {})) kinds[name] = 'number';
  // A tool with a default selection names only the fields it shows by default.
  if (output.fields !== undefined) {
    const shown = new Set(output.fields.map((f) => shownName(f, types[f])));
    for (const k of Object.keys(kinds)) if (!shown.has(k)) Reflect.deleteProperty(kinds, k);
  }
  const sortBy: Record<string, string> = {};
  for (const s of output.sort ?? []) {
    const type = types[s];
    if (type === 'percent' || type === 'pct') problem(['sort'], `${s} is shown as ${shownName(s, type)}: sort by that name`);
    const base = s.endsWith('_pct') ? s.slice(0, -4) : undefined;
    if (base !== undefined && !(s in (output.derive ?? {})) && (types[base] === 'percent' || types[base] === 'pct')) sortBy[s] = base;
  }
  return { types, kinds, sortBy };
}


/** Reports a problem with one field of the tool being compiled (the path is under the tool's entry). */
type Problem = (field: (string | number)[], message: string) => void;

interface ParsedManifest {
  manifest: RawManifest;
  doc: ReturnType<typeof parseDocument>;
  lines: LineCounter;
}

/** Parses the YAML and checks it against the manifest's own schema; every problem names its line. */
function parseManifest(yamlText: string, file: string): ParsedManifest {
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ManifestError(
      doc.errors.map((e) => `${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0] ?? ''}`),
      file,
    );
  }
  const raw = doc.toJS({ maxAliasCount: 0 }) as unknown;
  const validateShape = STRICT_AJV().compile<RawManifest>(manifestSchema);
  if (!validateShape(raw)) {
    throw new ManifestError(
      (validateShape.errors ?? []).map((e) => {
        const path = e.instancePath.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
        const toolIndex = path[0] === 'tools' && typeof path[1] === 'number' ? path[1] : undefined;
        const toolName = toolIndex === undefined ? undefined : (raw as RawManifest).tools[toolIndex]?.name;
        const where = location(file, lines, doc, path);
        const what = toolName === undefined ? '' : `tool "${toolName}": `;
        const field = path.slice(toolName === undefined ? 0 : 2).join('.');
        return `${where}: ${what}${field === '' ? '' : `${field} `}${e.message ?? 'is invalid'}${e.params.additionalProperty ? ` ("${String(e.params.additionalProperty)}")` : ''}`;
      }),
      file,
    );
  }
  return { manifest: raw, doc, lines };
}

/** The pinned GET operation a tool reads, unless its path is refused or not in the pin. */
function resolveOperation(t: RawTool, spec: SpecDoc, api: ApiDescription, problem: Problem): SpecOperation | undefined {
  const denied = deniedReason(t.path, api);
  if (denied !== undefined) problem(['path'], `${t.path} is refused: it ${denied}`);
  const op: SpecOperation | undefined = spec.paths[t.path]?.get;
  if (op === undefined) problem(['path'], `${t.path} is not a GET operation in the pinned ${api.product} API (${api.specFile})`);
  return op;
}

/**
 * The privilege comes from the pinned API's own check; a hand-written one must agree with it.
 * Where the endpoint lets every token in and filters rows instead, tools.yaml says what a row needs.
 */
function derivePermission(t: RawTool, op: SpecOperation, problem: Problem): { privilege: string; permission: ToolPermission } {
  const check = permissionCheck(op['x-pve-permissions']);
  const permission: ToolPermission = {};
  let privilege: string;
  if (check !== undefined) {
    permission.check = check;
    privilege = describeCheck(check);
    const disagreement = t.privilege === undefined ? undefined : privilegeDisagreement(t.privilege, check);
    if (disagreement !== undefined) problem(['privilege'], disagreement);
  } else if (t.privilege !== undefined && isPrivilegeName(t.privilege)) {
    permission.rows = t.privilege;
    privilege = `${t.privilege}, per ${t.output?.shape === 'list' ? 'row' : 'object'}`;
  } else {
    if (t.privilege !== undefined) problem(['privilege'], `"${t.privilege}" is not a privilege name (such as VM.Audit); the pinned API lets any token call ${t.path}, so leave privilege out or name what its rows need`);
    privilege = 'any token';
  }
  return { privilege, permission };
}

type SpecParams = Map<string, SpecParameter>;

/** A tool's arguments: their schemas as shown and checked, and the spec's rules for what is sent upstream. */
interface CompiledArguments {
  properties: Record<string, JsonSchema>;
  required: string[];
  upstreamProps: Record<string, unknown>;
  upstreamRequired: string[];
  params: CompiledParam[];
  /** Query parameters bound by an argument. */
  upstreamQuery: Set<string>;
}

/** One argument's schema, whether it is required, and whether Proxmox reads it as a boolean (sent as 0/1). */
interface CompiledArgument {
  schema: JsonSchema;
  isRequired: boolean;
  isBoolean: boolean;
}

function compileFilterArgument(arg: string, p: RawParam, shape: string, problem: Problem): CompiledArgument {
  if (shape !== 'list') problem(['params', arg, 'in'], 'filter arguments need output.shape list');
  if ((p.match === 'differs') !== (p.value !== undefined)) problem(['params', arg], 'match differs and value go together');
  const schema = p.schema ?? (p.match === 'min' || p.match === 'max' ? { type: 'number' } : p.match === 'differs' ? { type: 'boolean' } : { type: 'string', maxLength: 128 });
  return { schema, isRequired: p.required ?? false, isBoolean: false };
}

/** A path or query argument: the spec's rule, narrowed (never widened) by the tool's own. */
function compileUpstreamArgument(t: RawTool, arg: string, p: RawParam, where: 'path' | 'query', upstream: string, specParams: SpecParams, acc: CompiledArguments, problem: Problem): CompiledArgument | undefined {
  const sp = specParams.get(`${where}:${upstream}`);
  if (sp === undefined) {
    const other = specParams.get(`${where === 'path' ? 'query' : 'path'}:${upstream}`);
    problem(['params', arg], other ? `"${upstream}" is a ${other.in} parameter in the spec, not ${where}` : `"${upstream}" is not a ${where} parameter of GET ${t.path}`);
    return undefined;
  }
  const specSchema = cleanSchema(sp.schema ?? {}) as JsonSchema;
  const isBoolean = typesOf(specSchema).includes('boolean');
  if (p.schema !== undefined) {
    for (const w of wideningProblems(p.schema, specSchema)) problem(['params', arg, 'schema'], `widens the spec: ${w}`);
  }
  // The spec's patterns are long regexes that would cost every tools/list reader tokens: the
  // runtime enforces them through upstreamSchema on every call, so only a tool's own is shown.
  const schema: JsonSchema = { ...specSchema, ...(p.schema ?? {}) };
  if (p.schema?.pattern === undefined) delete schema.pattern;
  delete schema.default;
  acc.upstreamProps[upstream] = specSchema;
  let isRequired: boolean;
  if (where === 'path') {
    isRequired = true;
    acc.upstreamRequired.push(upstream);
    if (p.required === false) problem(['params', arg, 'required'], 'a path argument is always required');
  } else {
    acc.upstreamQuery.add(upstream);
    isRequired = p.required ?? sp.required === true;
    if (sp.required === true && !isRequired) problem(['params', arg, 'required'], 'the spec requires it');
    if (sp.required === true) acc.upstreamRequired.push(upstream);
  }
  return { schema, isRequired, isBoolean };
}

/** Every whole number sent to Proxmox is bounded: beyond 2^53 it is no longer exact, and from 1e21 on it is written in exponent form, which Proxmox does not read as an integer. */
function boundInteger(arg: string, upstream: string, schema: JsonSchema): JsonSchema {
  const bounded = arg === 'offset' || upstream === 'start' ? { ...schema, maximum: Math.min(MAX_OFFSET, typeof schema.maximum === 'number' ? schema.maximum : MAX_OFFSET) } : schema;
  bounded.maximum ??= Number.MAX_SAFE_INTEGER;
  bounded.minimum ??= Number.MIN_SAFE_INTEGER;
  return bounded;
}

/** Path, query and filter arguments: properties, required names, the upstream schema and the runtime's parameter list. */
function compileArguments(t: RawTool, specParams: SpecParams, shape: string, problem: Problem): CompiledArguments {
  const templateVars = [...t.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
  const acc: CompiledArguments = { properties: {}, required: [], upstreamProps: {}, upstreamRequired: [], params: [], upstreamQuery: new Set() };
  const boundPath = new Set<string>();
  for (const [arg, p] of Object.entries(t.params ?? {})) {
    const where = p.in ?? (templateVars.includes(arg) ? 'path' : 'query');
    const upstream = p.upstream ?? arg;
    const compiled = where === 'filter' ? compileFilterArgument(arg, p, shape, problem) : compileUpstreamArgument(t, arg, p, where, upstream, specParams, acc, problem);
    if (compiled === undefined) continue;
    if (where === 'path') boundPath.add(upstream);
    let { schema } = compiled;
    if (where !== 'filter' && typesOf(schema).includes('integer')) schema = boundInteger(arg, upstream, schema);
    if (p.description !== undefined) schema = { ...schema, description: p.description };
    acc.properties[arg] = schema;
    if (compiled.isRequired) acc.required.push(arg);
    const param: CompiledParam = { arg, in: where, upstream, boolean: compiled.isBoolean, field: p.field ?? arg, match: p.match ?? 'equals' };
    if (p.value !== undefined) param.value = p.value;
    if (typesOf(schema).includes('integer')) param.integer = true;
    acc.params.push(param);
  }
  for (const v of templateVars) if (!boundPath.has(v)) problem(['path'], `{${v}} is not bound by any path argument`);
  return acc;
}

/** The query a tool always sends, each value checked against the spec's rule; every query parameter the spec requires must be bound or fixed. */
function compileFixedQuery(t: RawTool, op: SpecOperation, specParams: SpecParams, upstreamQuery: Set<string>, problem: Problem): Record<string, string> {
  const fixedQuery: Record<string, string> = {};
  for (const [k, v] of Object.entries(t.query ?? {})) {
    const sp = specParams.get(`query:${k}`);
    if (sp === undefined) {
      problem(['query', k], `"${k}" is not a query parameter of GET ${t.path}`);
      continue;
    }
    if (upstreamQuery.has(k)) problem(['query', k], 'is also an argument');
    const specSchema = cleanSchema(sp.schema ?? {}) as JsonSchema;
    const ok = specRule(specSchema)(v);
    if (!ok) problem(['query', k], `${JSON.stringify(v)} does not satisfy the spec's rule for "${k}"`);
    fixedQuery[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  }
  const missing = (op.parameters ?? []).filter((sp) => sp.in === 'query' && sp.required === true && !upstreamQuery.has(sp.name) && !(sp.name in fixedQuery));
  for (const sp of missing) problem(['params'], `the spec requires query parameter "${sp.name}": bind it or fix it under query`);
  return fixedQuery;
}

/** Adds the arguments the runtime answers itself (sort, order, limit, offset, fields) to `properties`; returns whether the runtime pages the list. */
function addShapingArguments(output: RawOutput, shape: string, properties: Record<string, JsonSchema>, problem: Problem): boolean {
  const hasOwn = (n: string): boolean => n in properties;
  const paged = shape === 'list' && !hasOwn('limit') && !hasOwn('offset');
  if (shape === 'list') {
    if (output.sort !== undefined) {
      if (hasOwn('sort')) problem(['params', 'sort'], 'clashes with output.sort');
      properties.sort = { enum: output.sort };
      properties.order = { enum: ['asc', 'desc'] };
    }
    if (paged) {
      properties.limit = { type: 'integer', minimum: 1, maximum: MAX_PAGE };
      properties.offset = { type: 'integer', minimum: 0, maximum: MAX_OFFSET };
    }
  } else {
    for (const k of ['rows', 'extras', 'key', 'sort', 'pluck', 'page', 'rows_with'] as const) {
      if (output[k] !== undefined) problem(['output', k], 'applies to output.shape list only');
    }
  }
  if (output.fields !== undefined || output.hidden !== undefined) {
    if (hasOwn('fields')) problem(['params', 'fields'], 'clashes with output.fields');
    properties.fields = { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 64, description: '["*"] = all' };
  }
  return paged;
}

function checkErrorRules(output: RawOutput, problem: Problem): void {
  for (const rule of output.errors ?? []) {
    try {
      new RegExp(rule.match, 'u');
    } catch {
      problem(['output', 'errors'], `match ${JSON.stringify(rule.match)} is not a valid regular expression`);
    }
  }
}

/** The argument schema as shown (inputSchema, before `listed`) and as checked (argumentSchema), which must compile. */
function argumentSchemas(properties: Record<string, JsonSchema>, required: string[], problem: Problem): { inputSchema: JsonSchema; argumentSchema: JsonSchema } {
  const inputSchema: JsonSchema = { type: 'object', properties, additionalProperties: false };
  if (required.length > 0) inputSchema.required = required;
  // What is checked takes a string of digits for an integer ("100" for a VM ID): the runtime reads
  // it as the number, and the spec's bounds are checked on that number before anything is sent.
  const argumentSchema: JsonSchema = {
    ...inputSchema,
    properties: Object.fromEntries(
      Object.entries(properties).map(([k, v]) => [k, typesOf(v).includes('integer') && !Array.isArray(v.type) ? { ...v, type: ['integer', 'string'], pattern: '^-?[0-9]{1,15}$' } : v]),
    ),
  };
  try {
    STRICT_AJV().compile(argumentSchema);
  } catch (error) {
    problem(['params'], `the argument schema does not compile: ${(error as Error).message}`);
  }
  return { inputSchema, argumentSchema };
}

/**
 * The runtime's output spec and the output schema, both made here rather than written in
 * tools.yaml: no compile at start-up for the schema (the catalogue test compiles every tool's under
 * strict rules and checks every answer against it).
 */
function compileOutput(output: RawOutput, shape: OutputSpec['shape'], op: SpecOperation, paged: boolean, problem: Problem): { outputSpec: OutputSpec; outputSchema: JsonSchema } {
  const { types, kinds, sortBy } = conventions(output, shape === 'value' || output.unwrap !== undefined ? {} : returnedFields(op, shape), (field, message) => {
    problem(['output', ...field], message);
  });
  const rowProperties = Object.fromEntries(Object.entries(kinds).map(([k, kind]) => [k, SCHEMA_OF[kind]]));
  const pluckKind = output.pluck === undefined ? undefined : kindOf(types[output.pluck] ?? 'text');
  // tools/list is read on every turn: the list form (total, offset, next_offset) is explained by
  // every answer, so only the rows are described.
  const outputSchema: JsonSchema =
    shape === 'list'
      ? { type: 'object', properties: { items: { type: 'array', items: pluckKind !== undefined ? SCHEMA_OF[pluckKind] : { type: 'object', properties: rowProperties } } } }
      : shape === 'value'
        ? { type: 'object', properties: { value: {} }, required: ['value'] }
        : Object.keys(rowProperties).length > 0
          ? { type: 'object', properties: rowProperties }
          : { type: 'object' };

  const outputSpec: OutputSpec = {
    shape,
    types,
    derive: output.derive ?? {},
    kinds,
    page: output.page ?? MAX_PAGE,
    paged,
    errors: output.errors ?? [],
  };
  if (Object.keys(sortBy).length > 0) outputSpec.sort_by = sortBy;
  for (const k of ['rows', 'extras', 'key', 'order', 'hidden', 'keep_if', 'sort', 'fields', 'pluck', 'budget', 'omit', 'rows_with', 'unwrap', 'body_error', 'rename', 'redact_by'] as const) {
    if (output[k] !== undefined) (outputSpec as unknown as Record<string, unknown>)[k] = output[k];
  }
  return { outputSpec, outputSchema };
}

/** One tools.yaml entry against the pinned spec; undefined when its path is not a pinned GET operation. */
function compileTool(t: RawTool, spec: SpecDoc, api: ApiDescription, problem: Problem): CompiledTool | undefined {
  const op = resolveOperation(t, spec, api, problem);
  if (op === undefined) return undefined;
  const { privilege, permission } = derivePermission(t, op, problem);
  const specParams: SpecParams = new Map((op.parameters ?? []).map((p) => [`${p.in}:${p.name}`, p]));
  const output: RawOutput = t.output ?? { shape: 'record' as const };
  const shape = output.shape ?? 'record';

  const args = compileArguments(t, specParams, shape, problem);
  const fixedQuery = compileFixedQuery(t, op, specParams, args.upstreamQuery, problem);
  const paged = addShapingArguments(output, shape, args.properties, problem);
  checkErrorRules(output, problem);
  const { inputSchema, argumentSchema } = argumentSchemas(args.properties, args.required, problem);
  const upstreamSchema: JsonSchema = { type: 'object', properties: args.upstreamProps, required: args.upstreamRequired };
  const { outputSpec, outputSchema } = compileOutput(output, shape, op, paged, problem);

  return {
    name: t.name,
    title: t.title,
    description: t.description.trim(),
    toolset: t.toolset,
    path: t.path,
    privilege,
    permission,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: t.open_world ?? true },
    inputSchema: listed(inputSchema),
    argumentSchema,
    outputSchema,
    upstreamSchema,
    params: args.params,
    fixedQuery,
    output: outputSpec,
  };
}

/** `file` names the manifest in every problem (with the line): the API's own manifest, or an operator's file. */
export function compileManifest(yamlText: string, specDoc: unknown, api: ApiDescription = DEFAULT_API, file = api.manifestFile): CompiledManifest {
  const { manifest, doc, lines } = parseManifest(yamlText, file);
  const spec = specDoc as SpecDoc;
  const problems: string[] = [];
  const seen = new Set<string>();
  const tools: CompiledTool[] = [];
  manifest.tools.forEach((t, index) => {
    const problem: Problem = (field, message) => {
      problems.push(`${location(file, lines, doc, ['tools', index, ...field])}: tool "${t.name}": ${field.join('.')}: ${message}`);
    };
    if (seen.has(t.name)) problem(['name'], 'is used by an earlier tool');
    seen.add(t.name);
    const tool = compileTool(t, spec, api, problem);
    if (tool !== undefined) tools.push(tool);
  });
  if (problems.length > 0) throw new ManifestError(problems, file);
  return { tools };
}
