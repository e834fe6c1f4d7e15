// Reads the pinned OpenAPI document and answers the questions the Proxmox router answers: which
// operation does a path reach, which of its parameters are valid, and which privileges it wants.
import { readFileSync } from 'node:fs';

export type JsonSchema = Record<string, unknown>;

export interface ParamSpec {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: JsonSchema;
}

export interface OperationSpec {
  template: string;
  method: string;
  params: Map<string, ParamSpec>;
  /** The operation's `x-pve-permissions` (or `x-pbs-permissions`), as Proxmox writes them. */
  permissions: unknown;
}

interface TrieNode {
  statics: Map<string, TrieNode>;
  param?: { name: string; node: TrieNode };
  template?: string;
  ops: Map<string, OperationSpec>;
}

export interface RouteMatch {
  template: string;
  pathParams: Record<string, string>;
  op?: OperationSpec;
}

function newNode(): TrieNode {
  return { statics: new Map(), ops: new Map() };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class SpecIndex {
  private readonly root = newNode();
  private readonly children = new Map<string, Set<string>>();

  constructor(private readonly doc: Record<string, unknown>) {
    const paths = doc['paths'];
    if (!isRecord(paths)) throw new Error('OpenAPI document has no paths');
    for (const [template, item] of Object.entries(paths)) {
      if (!isRecord(item)) continue;
      this.add(template, item);
    }
  }

  static load(file: string): SpecIndex {
    return new SpecIndex(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
  }

  private resolve(value: unknown): unknown {
    // Only local references (`#/components/...`) occur in a generated document.
    let current = value;
    for (let depth = 0; depth < 8 && isRecord(current) && typeof current['$ref'] === 'string'; depth++) {
      const pointer = current['$ref'].replace(/^#\//, '').split('/');
      let target: unknown = this.doc;
      for (const part of pointer) target = isRecord(target) ? target[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
      current = target;
    }
    return current;
  }

  private add(template: string, item: Record<string, unknown>): void {
    const segments = template.split('/').filter((s) => s !== '');
    let node = this.root;
    let prefix = '';
    for (const segment of segments) {
      const parent = prefix === '' ? '/' : prefix;
      prefix = `${prefix}/${segment}`;
      let kids = this.children.get(parent);
      if (kids === undefined) this.children.set(parent, (kids = new Set()));
      kids.add(segment);
      const param = /^\{(.+)\}$/.exec(segment)?.[1];
      if (param !== undefined) {
        node.param ??= { name: param, node: newNode() };
        node = node.param.node;
      } else {
        let next = node.statics.get(segment);
        if (next === undefined) node.statics.set(segment, (next = newNode()));
        node = next;
      }
    }
    node.template = template;
    const shared = Array.isArray(item['parameters']) ? (item['parameters'] as unknown[]) : [];
    for (const [method, rawOp] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'delete'].includes(method) || !isRecord(rawOp)) continue;
      const params = new Map<string, ParamSpec>();
      const own = Array.isArray(rawOp['parameters']) ? (rawOp['parameters'] as unknown[]) : [];
      for (const raw of [...shared, ...own]) {
        const p = this.resolve(raw);
        if (!isRecord(p) || typeof p['name'] !== 'string') continue;
        const where = p['in'] === 'path' ? 'path' : p['in'] === 'query' ? 'query' : undefined;
        if (where === undefined) continue;
        const schema = this.resolve(p['schema']);
        params.set(p['name'], {
          name: p['name'],
          in: where,
          required: where === 'path' || p['required'] === true,
          schema: isRecord(schema) ? schema : {},
        });
      }
      node.ops.set(method.toUpperCase(), {
        template,
        method: method.toUpperCase(),
        params,
        permissions: rawOp['x-pve-permissions'] ?? rawOp['x-pbs-permissions'],
      });
    }
  }

  /** Static segments win over parameters, as in the Proxmox router. */
  match(method: string, segments: string[]): RouteMatch | undefined {
    const pathParams: Record<string, string> = {};
    const walk = (node: TrieNode, index: number): TrieNode | undefined => {
      if (index === segments.length) return node.template === undefined ? undefined : node;
      const segment = segments[index] ?? '';
      const fixed = node.statics.get(segment);
      if (fixed !== undefined) {
        const found = walk(fixed, index + 1);
        if (found !== undefined) return found;
      }
      if (node.param !== undefined && segment !== '') {
        pathParams[node.param.name] = segment;
        const found = walk(node.param.node, index + 1);
        if (found !== undefined) return found;
        // Proxmox keeps the last binding tried; a failed branch must not leak into the answer.
        Reflect.deleteProperty(pathParams, node.param.name);
      }
      return undefined;
    };
    const found = walk(this.root, 0);
    if (found?.template === undefined) return undefined;
    const op = found.ops.get(method);
    return op === undefined ? { template: found.template, pathParams } : { template: found.template, pathParams, op };
  }

  /** Path segments directly below a template, for directory-index answers. */
  childrenOf(template: string): string[] {
    return [...(this.children.get(template) ?? [])];
  }
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = /^(0|1|true|false|yes|no|on|off)$/i;

function typesOf(schema: JsonSchema): string[] {
  const type = schema['type'];
  if (typeof type === 'string') return [type];
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === 'string' && t !== 'null');
  return [];
}

/** How a pin's patterns apply: anchored by Proxmox VE's verifier, a search for the regex crate (PBS). */
export interface CheckOptions {
  search?: boolean;
}

/** Checks one query or path value the way PVE::JSONSchema does; returns PVE's reason, or undefined. */
export function checkValue(raw: string, schema: JsonSchema, options: CheckOptions = {}): string | undefined {
  const alternatives = schema['oneOf'] ?? schema['anyOf'];
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    let first: string | undefined;
    for (const alt of alternatives) {
      if (!isRecord(alt)) continue;
      const reason = checkValue(raw, alt, options);
      if (reason === undefined) return checkValue(raw, { ...schema, oneOf: undefined, anyOf: undefined }, options);
      first ??= reason;
    }
    if (first !== undefined) return first;
  }
  const types = typesOf(schema);
  const type = types[0];
  if (type === 'integer' && !INTEGER.test(raw)) return `type check ('integer') failed - got '${raw}'`;
  if (type === 'number' && !NUMBER.test(raw)) return `type check ('number') failed - got '${raw}'`;
  if (type === 'boolean' && !BOOLEAN.test(raw)) return `type check ('boolean') failed - got '${raw}'`;
  const enumValues = schema['enum'];
  if (Array.isArray(enumValues) && !enumValues.some((v) => String(v) === raw)) {
    return `value '${raw}' does not have a value in the enumeration '${enumValues.map(String).join(', ')}'`;
  }
  if (type === 'integer' || type === 'number') {
    const value = Number(raw);
    const min = schema['minimum'];
    const max = schema['maximum'];
    if (typeof min === 'number' && value < min) return `value must have a minimum value of ${min}`;
    if (typeof max === 'number' && value > max) return `value must have a maximum value of ${max}`;
  }
  if (type === 'string' || type === undefined) {
    const minLength = schema['minLength'];
    const maxLength = schema['maxLength'];
    if (typeof maxLength === 'number' && raw.length > maxLength) return `value may only be ${maxLength} characters long`;
    if (typeof minLength === 'number' && raw.length < minLength) return `value must be at least ${minLength} characters long`;
    const pattern = schema['pattern'];
    if (typeof pattern === 'string' && !patternMatches(pattern, raw, options.search === true)) return 'value does not match the regex pattern';
  }
  return undefined;
}

const patterns = new Map<string, RegExp | null>();

function patternMatches(pattern: string, raw: string, search: boolean): boolean {
  const key = `${search ? 's' : 'a'}:${pattern}`;
  let re = patterns.get(key);
  if (re === undefined) {
    // Proxmox VE anchors every pattern; a pattern JavaScript cannot compile is not checked.
    try {
      re = new RegExp(search ? pattern : `^(?:${pattern})$`, 'u');
    } catch {
      re = null;
    }
    patterns.set(key, re);
  }
  return re === null || re.test(raw);
}

/** Parameter errors for a request, keyed by parameter name, as the 400 body lists them. */
export function validateParams(
  op: OperationSpec,
  pathParams: Record<string, string>,
  query: Record<string, string>,
  options: CheckOptions = {},
): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    const spec = op.params.get(name);
    if (spec === undefined) {
      errors[name] = 'property is not defined in schema and the schema does not allow additional properties';
      continue;
    }
    const reason = checkValue(value, spec.schema, options);
    if (reason !== undefined) errors[name] = reason;
  }
  for (const [name, value] of Object.entries(pathParams)) {
    const spec = op.params.get(name);
    if (spec === undefined) continue;
    const reason = checkValue(value, spec.schema, options);
    if (reason !== undefined) errors[name] = reason;
  }
  for (const spec of op.params.values()) {
    if (spec.required && query[spec.name] === undefined && pathParams[spec.name] === undefined) {
      errors[spec.name] = 'property is missing and it is not optional';
    }
  }
  return errors;
}

export type PermissionCheck = (path: string, privilege: string) => boolean;

/** The first missing (path, privilege) of a Proxmox permission expression, or undefined when granted. */
export function missingPermission(
  permissions: unknown,
  params: Record<string, string>,
  can: PermissionCheck,
): { path: string; privilege: string } | undefined {
  const fill = (path: string): string => path.replace(/\{([^}]+)\}/g, (_m, name: string) => params[name] ?? '');
  const evaluate = (check: unknown): { path: string; privilege: string } | undefined => {
    if (!Array.isArray(check) || check.length === 0) return undefined;
    const [kind, ...rest] = check as unknown[];
    if (kind === 'perm' && typeof rest[0] === 'string' && Array.isArray(rest[1])) {
      const path = fill(rest[0]);
      const privs = rest[1].filter((p): p is string => typeof p === 'string');
      const any = rest[2] === 'any' && rest[3] === 1;
      const granted = any ? privs.some((p) => can(path, p)) : privs.every((p) => can(path, p));
      if (granted) return undefined;
      return { path, privilege: any ? privs.join('|') : (privs.find((p) => !can(path, p)) ?? '') };
    }
    if (kind === 'or') {
      let first: { path: string; privilege: string } | undefined;
      for (const sub of rest) {
        const missing = evaluate(sub);
        if (missing === undefined) return undefined;
        first ??= missing;
      }
      return first;
    }
    if (kind === 'and') {
      for (const sub of rest) {
        const missing = evaluate(sub);
        if (missing !== undefined) return missing;
      }
      return undefined;
    }
    // userid-param, userid-group and friends concern /access, which the fake does not model.
    return undefined;
  };
  if (Array.isArray(permissions)) return evaluate(permissions);
  if (isRecord(permissions) && permissions['check'] !== undefined) return evaluate(permissions['check']);
  return undefined;
}
