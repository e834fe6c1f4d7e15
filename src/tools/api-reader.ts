// Every harmless GET of the pinned release, through two generic tools (toolset `api`, listed only
// when asked for): `api_get` reads a concrete path, matched to a template of the pin and checked
// against its rules before anything is sent; `api_find` finds endpoints by words in their path.
// The facts are the pin's own (the API's pinned schema), read at start-up only when one of
// these tools is chosen. Endpoints on the deny-list are refused, whatever the path looks like.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { CompiledParam, CompiledTool, JsonSchema, OutputSpec, SpecOperation, SpecParameter } from '../manifest/compile.js';
import { describeCheck, permissionCheck } from '../manifest/permissions.js';
import { deniedReason, type ApiDescription } from '../proxmox/api/index.js';

export const API_GET = 'api_get';
export const API_FIND = 'api_find';

const ANNOTATIONS = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true } as const;
const LIST_OUTPUT: OutputSpec = { shape: 'list', types: {}, derive: {}, kinds: {}, page: 50, paged: true, errors: [] };
const RECORD_OUTPUT: OutputSpec = { shape: 'record', types: {}, derive: {}, kinds: {}, page: 50, paged: false, errors: [] };
const PAGING = { limit: { type: 'integer', minimum: 1, maximum: 500 }, offset: { type: 'integer', minimum: 0 } };

function generic(name: string, title: string, description: string, properties: Record<string, JsonSchema>, required: string[], listed: Record<string, JsonSchema>): CompiledTool {
  const argumentSchema: JsonSchema = { type: 'object', properties: { ...properties, ...PAGING }, required, additionalProperties: false };
  return {
    name,
    title,
    description,
    toolset: 'api',
    path: '',
    privilege: "the endpoint's own",
    permission: {},
    annotations: { ...ANNOTATIONS },
    inputSchema: { type: 'object', properties: { ...listed, limit: { type: 'integer' }, offset: { type: 'integer' } }, required },
    argumentSchema,
    outputSchema: { type: 'object' },
    upstreamSchema: { type: 'object' },
    params: [],
    fixedQuery: {},
    output: LIST_OUTPUT,
    generic: name === API_GET ? 'get' : 'find',
  };
}

/** The two generic tools, as manifest entries: listed, chosen and judged like every other tool. */
export function apiTools(): CompiledTool[] {
  const path = { type: 'string', minLength: 1, maxLength: 512, pattern: '^(/[^/?#\\s]+)+$', description: 'Concrete path, e.g. /cluster/firewall/aliases' };
  const params = { type: 'object', maxProperties: 32, additionalProperties: { type: ['string', 'number', 'boolean'] }, description: 'Query parameters' };
  const words = { type: 'string', minLength: 1, maxLength: 200, description: 'Words in the path, e.g. "firewall alias"' };
  return [
    generic(
      API_GET,
      'Read any GET endpoint',
      'Reads any read-only GET of the Proxmox API not covered by another tool. Find paths with api_find. Lists are paged.',
      { path, params },
      ['path'],
      { path: { type: 'string', description: path.description }, params: { type: 'object', description: params.description } },
    ),
    generic(API_FIND, 'Find API endpoints', 'Finds GET endpoints of the Proxmox API by words in their path, with their parameters. Use before api_get.', { words }, ['words'], {
      words: { type: 'string', description: words.description },
    }),
  ];
}

export interface Endpoint {
  template: string;
  segments: string[];
  pathParams: SpecParameter[];
  queryParams: SpecParameter[];
  /** The answer's `data` is an array. */
  list: boolean;
  privilege: string;
}

/** Drops our `x-` facts and defaults so a schema compiles under ajv's strict mode. */
function clean(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(clean);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-') || k === 'description' || k === 'title' || k === 'default') continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, clean(pv)])) : clean(v);
  }
  return out;
}

function typesOf(schema: JsonSchema | undefined): string[] {
  const t = schema?.type;
  return Array.isArray(t) ? (t as string[]) : typeof t === 'string' ? [t] : [];
}

export class ApiCatalogue {
  readonly endpoints: Endpoint[];
  private readonly bySize = new Map<number, Endpoint[]>();
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });

  constructor(
    spec: { paths: Record<string, { get?: SpecOperation } | undefined> },
    private readonly api: ApiDescription,
  ) {
    this.endpoints = [];
    for (const [template, item] of Object.entries(spec.paths)) {
      const op = item?.get;
      if (op === undefined || deniedReason(template, api) !== undefined) continue;
      const params = (op.parameters ?? []).map((p) => ({ ...p, schema: clean(p.schema ?? {}) as JsonSchema }));
      const data = (op.responses?.['200']?.content?.['application/json']?.schema?.properties as { data?: { type?: unknown } } | undefined)?.data;
      const check = permissionCheck(op['x-pve-permissions']);
      const endpoint: Endpoint = {
        template,
        segments: template.split('/').slice(1),
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params.filter((p) => p.in === 'query'),
        list: data?.type === 'array',
        privilege: check === undefined ? 'any token (rows may be filtered)' : describeCheck(check),
      };
      this.endpoints.push(endpoint);
      const size = endpoint.segments.length;
      this.bySize.set(size, [...(this.bySize.get(size) ?? []), endpoint]);
    }
    // Literal segments win over variables, segment by segment (/nodes/{node}/qemu before /nodes/{node}/{x}).
    for (const list of this.bySize.values()) {
      list.sort((a, b) => {
        for (let i = 0; i < a.segments.length; i++) {
          const av = a.segments[i]?.startsWith('{') === true ? 1 : 0;
          const bv = b.segments[i]?.startsWith('{') === true ? 1 : 0;
          if (av !== bv) return av - bv;
        }
        return 0;
      });
    }
  }

  static load(file: string, api: ApiDescription): ApiCatalogue {
    return new ApiCatalogue(JSON.parse(readFileSync(file, 'utf8')) as { paths: Record<string, { get?: SpecOperation }> }, api);
  }

  /** Why a concrete path cannot be read, before any matching: a form no template has, or the deny-list. */
  refused(path: string): string | undefined {
    const segments = path.split('/').slice(1);
    if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('%'))) {
      return `"${path}" is not a plain API path (empty, "." or ".." segments and %-escapes are refused)`;
    }
    const denied = deniedReason(path, this.api);
    return denied === undefined ? undefined : `GET ${path} is on the deny-list: it ${denied}`;
  }

  /** The endpoint a concrete path names, with its path values; undefined when the pin has none. */
  match(path: string): { endpoint: Endpoint; values: Record<string, string> } | undefined {
    const segments = path.split('/').slice(1);
    for (const endpoint of this.bySize.get(segments.length) ?? []) {
      const values: Record<string, string> = {};
      const fits = endpoint.segments.every((s, i) => {
        const given = segments[i] ?? '';
        if (!s.startsWith('{')) return s === given;
        values[s.slice(1, -1)] = given;
        return true;
      });
      if (fits) return { endpoint, values };
    }
    return undefined;
  }

  /** Endpoints whose path holds every word (case-insensitive), in the pin's order. */
  find(words: string): Endpoint[] {
    const wanted = words
      .toLowerCase()
      .split(/[\s/,]+/)
      .filter((w) => w !== '');
    return this.endpoints.filter((e) => wanted.every((w) => e.template.toLowerCase().includes(w)));
  }

  /** Checks path values and query parameters against the endpoint's rules: the first problem, in words, or undefined. */
  check(endpoint: Endpoint, values: Record<string, unknown>): string | undefined {
    let validate = this.validators.get(endpoint.template);
    if (validate === undefined) {
      const params = [...endpoint.pathParams, ...endpoint.queryParams];
      const required = params.filter((p) => p.in === 'path' || p.required === true).map((p) => p.name);
      validate = this.ajv.compile({ type: 'object', properties: Object.fromEntries(params.map((p) => [p.name, p.schema ?? {}])), required, additionalProperties: false });
      this.validators.set(endpoint.template, validate);
    }
    if (validate(values)) return undefined;
    const e = validate.errors?.[0];
    return e === undefined ? 'the parameters are invalid' : this.describe(endpoint, e);
  }

  private describe(endpoint: Endpoint, e: ErrorObject): string {
    const names = endpoint.queryParams.map((p) => `${p.name}${p.required === true ? ' (required)' : ''}`);
    const where = e.instancePath === '' ? '' : `"${e.instancePath.slice(1)}" `;
    switch (e.keyword) {
      case 'additionalProperties':
        return `unknown parameter "${String(e.params.additionalProperty)}"; GET ${endpoint.template} takes ${names.length > 0 ? names.join(', ') : 'no query parameters'}`;
      case 'required':
        return `missing required parameter "${String(e.params.missingProperty)}"`;
      case 'enum':
        return `${where}must be one of ${JSON.stringify(e.params.allowedValues)}`;
      case 'pattern':
        return `${where}has characters or a form that is not allowed`;
      default:
        return `${where}${e.message ?? 'is invalid'}`;
    }
  }

  /** Path values as the spec types them (a VM ID is an integer), so that its rules apply. */
  typedValues(endpoint: Endpoint, values: Record<string, string>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(values)) {
      const types = typesOf(endpoint.pathParams.find((p) => p.name === name)?.schema);
      out[name] = (types.includes('integer') || types.includes('number')) && /^-?\d+$/.test(value) && !types.includes('string') ? Number(value) : value;
    }
    return out;
  }

  /** A one-off manifest entry for one endpoint, run by the generic runtime like any other tool. */
  toolFor(endpoint: Endpoint, base: CompiledTool): CompiledTool {
    const params: CompiledParam[] = [...endpoint.pathParams, ...endpoint.queryParams].map((p) => ({
      arg: p.name,
      in: p.in === 'path' ? 'path' : 'query',
      upstream: p.name,
      boolean: typesOf(p.schema).includes('boolean'),
      field: p.name,
      match: 'equals',
    }));
    // Where upstream pages itself (a `limit` or `start` parameter), the runtime does not.
    const ownPaging = endpoint.queryParams.some((p) => p.name === 'limit' || p.name === 'offset');
    const output = endpoint.list ? { ...LIST_OUTPUT, paged: !ownPaging } : RECORD_OUTPUT;
    return {
      ...base,
      path: endpoint.template,
      privilege: endpoint.privilege,
      params,
      upstreamSchema: {
        type: 'object',
        properties: Object.fromEntries([...endpoint.pathParams, ...endpoint.queryParams].map((p) => [p.name, p.schema ?? {}])),
        required: [...endpoint.pathParams.map((p) => p.name), ...endpoint.queryParams.filter((p) => p.required === true).map((p) => p.name)],
      },
      output,
    };
  }
}
