// Compares two converted specs from the point of view of the tools in `tools.yaml`: for each tool,
// is its endpoint there, and are the upstream parameters it sends unchanged, changed or gone?
// A tool "breaks" when its path is gone, a parameter it sends is gone or changed type
// incompatibly, a fixed value it sends is no longer accepted, or a newly required parameter is
// one it never sends.
import { parse as parseYaml } from 'yaml';

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type ToolStatus = 'unchanged' | 'changed' | 'broken';

export interface ToolCheck {
  name: string;
  path: string;
  status: ToolStatus;
  /** Human-readable findings, breaking ones first. */
  notes: string[];
}

export interface UpgradeReport {
  fromRelease: string;
  toRelease: string;
  fromCount: number;
  toCount: number;
  added: string[];
  removed: string[];
  tools: ToolCheck[];
  broken: ToolCheck[];
}

interface ParamInfo {
  required: boolean;
  schema: Obj;
}

interface UsedParam {
  upstream: string;
  in: 'path' | 'query';
  /** A value the manifest fixes (`query:`); checked against the new schema. */
  fixed?: unknown;
}

function getOperations(spec: unknown): Map<string, Obj> {
  const out = new Map<string, Obj>();
  if (!isObj(spec) || !isObj(spec.paths)) return out;
  for (const [path, item] of Object.entries(spec.paths)) {
    if (isObj(item) && isObj(item.get)) out.set(path, item.get);
  }
  return out;
}

function releaseOf(spec: unknown): string {
  if (isObj(spec) && isObj(spec.info) && typeof spec.info.version === 'string') return spec.info.version;
  return 'none';
}

function paramsOf(op: Obj | undefined): Map<string, ParamInfo> {
  const out = new Map<string, ParamInfo>();
  if (!op || !Array.isArray(op.parameters)) return out;
  for (const p of op.parameters) {
    if (!isObj(p) || typeof p.name !== 'string' || typeof p.in !== 'string') continue;
    out.set(`${p.in}:${p.name}`, { required: p.required === true, schema: isObj(p.schema) ? p.schema : {} });
  }
  return out;
}

function typeSet(schema: Obj): Set<string> {
  const t = schema.type;
  if (typeof t === 'string') return new Set([t]);
  if (Array.isArray(t)) return new Set(t.filter((x): x is string => typeof x === 'string'));
  return new Set(); // untyped: accepts anything
}

/** Would every value the old schema's type admits still be admitted by the new one? */
function typeCompatible(before: Obj, after: Obj): boolean {
  const a = typeSet(before);
  const b = typeSet(after);
  if (b.size === 0) return true;
  if (a.size === 0) return false;
  for (const t of a) {
    if (b.has(t)) continue;
    if (t === 'integer' && b.has('number')) continue;
    return false;
  }
  return true;
}

function show(value: unknown): string {
  return value === undefined ? 'none' : JSON.stringify(value);
}

function acceptsFixed(schema: Obj, value: unknown): boolean {
  if (Array.isArray(schema.enum)) return schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value) || String(e) === String(value));
  return true;
}

function compareParam(label: string, before: ParamInfo, after: ParamInfo, used: UsedParam, breaking: string[], changes: string[]): void {
  const b = before.schema;
  const a = after.schema;
  if (JSON.stringify(b.type) !== JSON.stringify(a.type)) {
    const message = `${label}: type ${show(b.type)} -> ${show(a.type)}`;
    if (typeCompatible(b, a)) changes.push(message);
    else breaking.push(`${message} (incompatible)`);
  }
  if (JSON.stringify(b.enum) !== JSON.stringify(a.enum)) {
    const oldValues = Array.isArray(b.enum) ? b.enum.map((v) => JSON.stringify(v)) : [];
    const newValues = Array.isArray(a.enum) ? a.enum.map((v) => JSON.stringify(v)) : [];
    const gone = oldValues.filter((v) => !newValues.includes(v));
    const added = newValues.filter((v) => !oldValues.includes(v));
    const parts: string[] = [];
    if (!Array.isArray(b.enum)) parts.push('now restricted to an enum');
    if (!Array.isArray(a.enum)) parts.push('no longer an enum');
    if (gone.length > 0 && Array.isArray(a.enum)) parts.push(`values removed ${gone.join(', ')}`);
    if (added.length > 0 && Array.isArray(b.enum)) parts.push(`values added ${added.join(', ')}`);
    changes.push(`${label}: enum ${parts.join('; ') || 'reordered'}`);
  }
  for (const key of ['minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'default', 'x-pve-format']) {
    if (JSON.stringify(b[key]) !== JSON.stringify(a[key])) {
      changes.push(`${label}: ${key === 'x-pve-format' ? 'format' : key} ${show(b[key])} -> ${show(a[key])}`);
    }
  }
  if (before.required !== after.required) {
    const message = `${label}: ${after.required ? 'now required' : 'now optional'}`;
    changes.push(message);
  }
  if (used.fixed !== undefined && !acceptsFixed(a, used.fixed)) {
    breaking.push(`${label}: the fixed value ${show(used.fixed)} is no longer accepted`);
  }
}

/** Property names of the answer's data (of its items for a list). */
function answerFields(op: Obj | undefined): Set<string> | undefined {
  const schema = (op?.responses as Obj | undefined)?.['200'];
  const content = isObj(schema) && isObj(schema.content) ? schema.content['application/json'] : undefined;
  const envelope = isObj(content) && isObj(content.schema) ? content.schema : undefined;
  const data = envelope && isObj(envelope.properties) ? envelope.properties.data : undefined;
  if (!isObj(data)) return undefined;
  const target = data.type === 'array' && isObj(data.items) ? data.items : data;
  return isObj(target.properties) ? new Set(Object.keys(target.properties)) : undefined;
}

interface ToolEntry {
  name: string;
  path: string;
  used: UsedParam[];
  /** Answer fields the tool's `output` names (fields, key, sort, types). */
  fields: Set<string>;
}

function outputFields(output: unknown): Set<string> {
  const out = new Set<string>();
  if (!isObj(output)) return out;
  const addName = (name: unknown): void => {
    if (typeof name === 'string' && name !== '*') out.add(name.split('.')[0] ?? name);
  };
  for (const key of ['fields', 'sort']) if (Array.isArray(output[key])) (output[key] as unknown[]).forEach(addName);
  addName(output.key);
  addName(output.pluck);
  if (isObj(output.types)) Object.keys(output.types).forEach(addName);
  return out;
}

export function readTools(toolsYaml: string): ToolEntry[] {
  const doc: unknown = parseYaml(toolsYaml);
  const tools = isObj(doc) && Array.isArray(doc.tools) ? doc.tools : [];
  const out: ToolEntry[] = [];
  for (const tool of tools) {
    if (!isObj(tool) || typeof tool.name !== 'string' || typeof tool.path !== 'string') continue;
    const path = tool.path;
    const placeholders = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
    const used: UsedParam[] = [];
    const seen = new Set<string>();
    const add = (p: UsedParam): void => {
      const key = `${p.in}:${p.upstream}`;
      if (seen.has(key)) return;
      seen.add(key);
      used.push(p);
    };
    if (isObj(tool.params)) {
      for (const [arg, rule] of Object.entries(tool.params)) {
        const r = isObj(rule) ? rule : {};
        const where = typeof r.in === 'string' ? r.in : placeholders.includes(arg) ? 'path' : 'query';
        if (where !== 'path' && where !== 'query') continue;
        add({ upstream: typeof r.upstream === 'string' ? r.upstream : arg, in: where });
      }
    }
    for (const name of placeholders) add({ upstream: name, in: 'path' });
    if (isObj(tool.query)) {
      for (const [name, value] of Object.entries(tool.query)) add({ upstream: name, in: 'query', fixed: value });
    }
    out.push({ name: tool.name, path, used, fields: outputFields(tool.output) });
  }
  return out;
}

function checkTool(tool: ToolEntry, before: Map<string, Obj>, after: Map<string, Obj>): ToolCheck {
  const breaking: string[] = [];
  const changes: string[] = [];
  const oldOp = before.get(tool.path);
  const newOp = after.get(tool.path);
  if (!newOp) {
    breaking.push(oldOp ? 'endpoint gone' : 'endpoint absent from both the current and the new spec');
    return { name: tool.name, path: tool.path, status: 'broken', notes: breaking };
  }
  if (!oldOp) changes.push('endpoint absent from the current pin, present in the new one');
  const oldParams = paramsOf(oldOp);
  const newParams = paramsOf(newOp);
  for (const used of tool.used) {
    const key = `${used.in}:${used.upstream}`;
    const label = `${used.in} parameter ${used.upstream}`;
    const a = newParams.get(key);
    const b = oldParams.get(key);
    if (!a) {
      breaking.push(`${label} gone`);
      continue;
    }
    if (!b) {
      changes.push(`${label} is new`);
      if (used.fixed !== undefined && !acceptsFixed(a.schema, used.fixed)) {
        breaking.push(`${label}: the fixed value ${show(used.fixed)} is not accepted`);
      }
      continue;
    }
    compareParam(label, b, a, used, breaking, changes);
  }
  const sent = new Set(tool.used.map((u) => `${u.in}:${u.upstream}`));
  for (const [key, info] of newParams) {
    if (!info.required || sent.has(key)) continue;
    const wasRequired = oldParams.get(key)?.required === true;
    if (!wasRequired) breaking.push(`${key.replace(':', ' parameter ')} is newly required and the tool does not send it`);
  }
  const oldFields = answerFields(oldOp);
  const newFields = answerFields(newOp);
  if (oldFields && newFields) {
    const gone = [...oldFields].filter((f) => !newFields.has(f));
    const added = [...newFields].filter((f) => !oldFields.has(f));
    if (gone.length > 0) changes.push(`answer fields removed: ${gone.join(', ')}`);
    const missing = [...tool.fields].filter((f) => oldFields.has(f) && !newFields.has(f));
    if (missing.length > 0) changes.push(`output names fields the new answer does not describe: ${missing.join(', ')}`);
    if (added.length > 0) changes.push(`answer fields added: ${added.join(', ')}`);
  }
  const status: ToolStatus = breaking.length > 0 ? 'broken' : changes.length > 0 ? 'changed' : 'unchanged';
  return { name: tool.name, path: tool.path, status, notes: [...breaking, ...changes] };
}

export function buildUpgradeReport(currentSpec: unknown, newSpec: unknown, toolsYaml: string): UpgradeReport {
  const before = getOperations(currentSpec);
  const after = getOperations(newSpec);
  const added = [...after.keys()].filter((p) => !before.has(p)).sort();
  const removed = [...before.keys()].filter((p) => !after.has(p)).sort();
  const tools = readTools(toolsYaml).map((t) => checkTool(t, before, after));
  return {
    fromRelease: releaseOf(currentSpec),
    toRelease: releaseOf(newSpec),
    fromCount: before.size,
    toCount: after.size,
    added,
    removed,
    tools,
    broken: tools.filter((t) => t.status === 'broken'),
  };
}

const LIST_LIMIT = 15;

function listPaths(label: string, paths: string[]): string[] {
  if (paths.length === 0) return [];
  const shown = paths.slice(0, LIST_LIMIT).map((p) => `    ${label} ${p}`);
  if (paths.length > LIST_LIMIT) shown.push(`    ... and ${paths.length - LIST_LIMIT} more`);
  return shown;
}

/** `release` names what a pin's version counts: `pve-docs` for Proxmox VE, the product otherwise. */
export function formatUpgradeReport(report: UpgradeReport, release = 'pve-docs'): string {
  const lines = [
    `Upgrade report: ${release} ${report.fromRelease} -> ${report.toRelease}`,
    `GET paths: ${report.fromCount} -> ${report.toCount} (${report.added.length} added, ${report.removed.length} removed)`,
    ...listPaths('+', report.added),
    ...listPaths('-', report.removed),
    `Tools (${report.tools.length}):`,
  ];
  const width = Math.max(0, ...report.tools.map((t) => t.name.length));
  for (const tool of report.tools) {
    lines.push(`  ${tool.name.padEnd(width)}  ${tool.status.toUpperCase().padEnd(9)}  GET ${tool.path}`);
    for (const note of tool.notes) lines.push(`      ${note}`);
  }
  lines.push(
    report.broken.length === 0
      ? 'Result: no tool breaks.'
      : `Result: ${report.broken.length} tool(s) would break: ${report.broken.map((t) => t.name).join(', ')}.`,
  );
  return `${lines.join('\n')}\n`;
}
