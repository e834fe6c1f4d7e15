// Output shaping declared in tools.yaml: normalise Proxmox's loosely typed values, filter, sort,
// page, pick fields, make sizes and durations readable, and keep every answer within its budget.
import { shownName, type CompiledParam, type JsonKind, type OutputSpec, type TypeName } from '../manifest/compile.js';
import { REDACTED, cleanValue, isSecretKey, sanitizeText } from '../sanitize.js';

type Row = Record<string, unknown>;

const TEXT_CAP = 500;

function getPath(obj: Row, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Row)[part];
  }
  return cur;
}

const NUMERIC = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

function toNumber(v: unknown): unknown {
  if (typeof v === 'string' && NUMERIC.test(v.trim())) return Number(v);
  if (Array.isArray(v)) return v.map(toNumber);
  return v;
}

/** Raw normalisation: values become what they mean, still machine-comparable. */
function normalise(v: unknown, type: TypeName): unknown {
  switch (type) {
    case 'bool':
      if (v === 1 || v === '1' || v === true) return true;
      if (v === 0 || v === '0' || v === '' || v === false) return false;
      return v;
    case 'int':
    case 'number':
    case 'bytes':
    case 'rate':
    case 'percent':
    case 'pct':
    case 'duration':
    case 'epoch':
      return toNumber(v);
    case 'tags':
      if (typeof v !== 'string') return v;
      return v.split(/[;,\s]+/).filter((t) => t !== '').map((t) => sanitizeText(t, 64));
    case 'list':
      if (typeof v !== 'string') return v;
      return v.split(',').map((t) => t.trim()).filter((t) => t !== '');
    case 'text':
      return typeof v === 'string' ? sanitizeText(v, TEXT_CAP) : v;
  }
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${UNITS[unit] ?? ''}`;
}

export function formatDuration(seconds: number): string {
  let s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m && d === 0 ? `${m}m` : '', !d && !h && !m ? `${s}s` : ''];
  return parts.filter((p) => p !== '').join(' ') || '0s';
}

/** A percentage as every answer shows it: a number from 0 to 100, one decimal. */
function roundPct(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Readable forms, made after filtering and sorting. */
function present(v: unknown, type: TypeName): unknown {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v;
  switch (type) {
    case 'bytes':
      return formatBytes(v);
    case 'rate':
      return `${formatBytes(Math.round(v))}/s`;
    case 'percent':
      return roundPct(v * 100);
    case 'pct':
      return roundPct(v);
    case 'duration':
      return formatDuration(v);
    case 'epoch':
      return v > 0 && v < 1e11 ? new Date(v * 1000).toISOString().replace('.000Z', 'Z') : v;
    default:
      return v;
  }
}

/** One `types` entry, its path split once per manifest rather than once per row. */
interface TypeStep {
  key: string;
  parts: string[] | undefined;
  type: TypeName;
}

const stepCache = new WeakMap<OutputSpec, TypeStep[]>();

function typeSteps(spec: OutputSpec): TypeStep[] {
  let steps = stepCache.get(spec);
  if (steps === undefined) {
    steps = Object.entries(spec.types).map(([path, type]) => ({ key: path.split('.')[0] ?? path, parts: path.includes('.') ? path.split('.') : undefined, type }));
    stepCache.set(spec, steps);
  }
  return steps;
}

function applySteps(row: Row, steps: readonly TypeStep[], step: typeof normalise): void {
  for (const s of steps) {
    if (s.parts === undefined) {
      const v = row[s.key];
      if (v !== undefined && Object.hasOwn(row, s.key)) row[s.key] = step(v, s.type);
      continue;
    }
    let parent: Row | undefined = row;
    for (const part of s.parts.slice(0, -1)) {
      const next: unknown = parent[part];
      parent = typeof next === 'object' && next !== null && Object.hasOwn(parent, part) ? (next as Row) : undefined;
      if (parent === undefined) break;
    }
    const last = s.parts[s.parts.length - 1] ?? '';
    if (parent !== undefined && parent[last] !== undefined && Object.hasOwn(parent, last)) parent[last] = step(parent[last], s.type);
  }
}

function applyTypes(row: Row, spec: OutputSpec, step: typeof normalise): void {
  applySteps(row, typeSteps(spec), step);
}

function derive(row: Row, spec: OutputSpec): void {
  for (const [name, rule] of Object.entries(spec.derive)) {
    const part = getPath(row, rule.percent[0]);
    const whole = getPath(row, rule.percent[1]);
    if (typeof part === 'number' && typeof whole === 'number' && whole > 0) row[name] = roundPct((part / whole) * 100);
  }
}

type Where = Record<string, (string | number | boolean)[]>;

// A row test runs on every row of an answer (5,000 on a big cluster): its field list is made once
// per manifest rule, so testing a row allocates nothing.
const whereCache = new WeakMap<Where, [string, readonly unknown[]][]>();

function matches(row: Row, where: Where): boolean {
  let tests = whereCache.get(where);
  if (tests === undefined) {
    tests = Object.entries(where);
    whereCache.set(where, tests);
  }
  for (const [field, values] of tests) if (!values.includes(row[field])) return false;
  return true;
}

function passesFilter(row: Row, p: CompiledParam, want: unknown): boolean {
  const v = row[p.field];
  switch (p.match) {
    case 'equals':
      return v === want || (typeof v === 'number' && String(v) === String(want));
    case 'contains':
      return Array.isArray(v) ? v.some((x) => String(x).toLowerCase() === String(want).toLowerCase()) : v === want;
    case 'substring':
      return typeof v === 'string' && v.toLowerCase().includes(String(want).toLowerCase());
    case 'min':
      return typeof v === 'number' && v >= Number(want);
    case 'max':
      return typeof v === 'number' && v <= Number(want);
    case 'differs':
      // A boolean question: rows whose field is set and differs from the value (failed tasks), or not.
      return want === true ? v !== undefined && v !== null && v !== p.value : v === p.value;
  }
}

// One collator for every comparison (localeCompare with options makes one per call), made on first
// use: loading collation data costs milliseconds and megabytes a server that never sorts text skips.
let collator: Intl.Collator | undefined;
const collate = (a: string, b: string): number => (collator ??= new Intl.Collator('en', { numeric: true })).compare(a, b);

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return collate(a, b);
  return collate(JSON.stringify(a), JSON.stringify(b));
}

/**
 * Key/value rows (`{ key: "cipassword", value: ... }`) hide a secret from the name-based redactor
 * twice over: the name field looks like a secret itself and the value's field name does not. The
 * manifest renames the name field and says which fields carry the value.
 */
function prepare(row: Row, spec: OutputSpec): Row {
  // Answers are parsed afresh for every call, so rows are ours to change: copy only to rename.
  if (spec.rename === undefined && spec.redact_by === undefined) return row;
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[spec.rename?.[k] ?? k] = v;
  for (const [nameField, valueFields] of Object.entries(spec.redact_by ?? {})) {
    const name = out[nameField];
    if (typeof name !== 'string' || !isSecretKey(name)) continue;
    for (const f of valueFields) if (out[f] !== undefined && out[f] !== null && out[f] !== '') out[f] = REDACTED;
  }
  return out;
}

const absent = (v: unknown): boolean => v === undefined || v === null;

/**
 * Sorts rows by one field. Rows without it go last whichever the direction (an offline node has
 * no memory figure: it is not the smallest nor the largest); equal values keep the tool's key order.
 */
function sortRows(rows: Row[], field: string, dir: 1 | -1, key: string | undefined): void {
  const tie = key !== undefined && key !== field ? (a: Row, b: Row): number => compareAbsentLast(a[key], b[key]) : (): number => 0;
  rows.sort((a, b) => {
    const x = a[field];
    const y = b[field];
    if (absent(x) || absent(y)) return absent(x) === absent(y) ? tie(a, b) : absent(x) ? 1 : -1;
    return dir * compare(x, y) || tie(a, b);
  });
}

function compareAbsentLast(x: unknown, y: unknown): number {
  if (absent(x) || absent(y)) return absent(x) === absent(y) ? 0 : absent(x) ? 1 : -1;
  return compare(x, y);
}

/** Fields that apply to some rows only (a stopped guest's memory use): left out of the others. */
function keepApplicable(row: Row, spec: OutputSpec): void {
  for (const rule of spec.keep_if ?? []) {
    if (matches(row, rule.where)) continue;
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- rows are ours (parsed per call or copied per page)
    for (const f of rule.fields) delete row[f];
  }
}

/** Where each field goes in a row, and the name it is shown under: made once per manifest rule. */
interface Layout {
  rank: Map<string, number>;
  shown: Map<string, string>;
}

const layoutCache = new WeakMap<OutputSpec, Layout>();

function layout(spec: OutputSpec): Layout {
  let l = layoutCache.get(spec);
  if (l === undefined) {
    const shown = new Map<string, string>();
    for (const [path, type] of Object.entries(spec.types)) if (!path.includes('.') && shownName(path, type) !== path) shown.set(path, shownName(path, type));
    const rank = new Map<string, number>();
    const names = [...(spec.order ?? (spec.key === undefined ? [] : [spec.key])), ...Object.keys(spec.types).map((p) => p.split('.')[0] ?? p), ...Object.keys(spec.derive)];
    for (const n of names) if (!rank.has(n)) rank.set(n, rank.size);
    l = { rank, shown };
    layoutCache.set(spec, l);
  }
  return l;
}

function isKind(v: unknown, kind: JsonKind): boolean {
  switch (kind) {
    case 'array':
      return Array.isArray(v);
    case 'integer':
      return Number.isInteger(v);
    default:
      return typeof v === kind;
  }
}

/** Nulls go and strings lose trailing newlines: `"comments": "uplink\n"`, `"exists": null`. */
function tidy(v: unknown): unknown {
  if (v === null) return undefined;
  if (typeof v === 'string') return /\s$/.test(v) ? v.trimEnd() : v;
  if (Array.isArray(v)) return v.map(tidy).filter((x) => x !== undefined);
  if (typeof v === 'object') {
    const out: Row = {};
    for (const [k, x] of Object.entries(v)) {
      const t = tidy(x);
      if (t !== undefined) out[k] = t;
    }
    return out;
  }
  return v;
}

function deletePath(row: Row, path: string): void {
  const parts = path.split('.');
  let cur: unknown = row;
  for (const part of parts.slice(0, -1)) {
    cur = typeof cur === 'object' && cur !== null && Object.hasOwn(cur, part) ? (cur as Row)[part] : undefined;
  }
  const last = parts[parts.length - 1] ?? '';
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the row is ours; hidden parts are declared in tools.yaml
  if (typeof cur === 'object' && cur !== null && Object.hasOwn(cur, last)) delete (cur as Row)[last];
}

/**
 * A row as it is shown: the fields asked for (by default all but the hidden and omitted ones),
 * percentages under their `_pct` names, nulls and trailing newlines gone, values of another type
 * than the output schema states left out, in the tool's one field order: identity first, then
 * the fields as tools.yaml declares them, then the rest alphabetically.
 */
function finish(row: Row, spec: OutputSpec, args: Record<string, unknown>): Row {
  const { rank, shown } = layout(spec);
  const asked = args.fields as string[] | undefined;
  const all = asked?.includes('*') === true;
  const selection = asked !== undefined && asked.length > 0 && !all ? asked : all ? undefined : spec.fields;
  const wanted = (k: string, name: string): boolean => selection === undefined || selection.some((f) => f === name || f === k || f.startsWith(`${k}.`));
  const keys: string[] = [];
  for (const k of Object.keys(row)) {
    const name = shown.get(k) ?? k;
    if (spec.omit?.includes(k) === true || !wanted(k, name)) continue;
    if (selection === undefined && !all && spec.hidden?.includes(k) === true) continue;
    keys.push(k);
  }
  const at = (k: string): number => rank.get(k) ?? Number.MAX_SAFE_INTEGER;
  keys.sort((a, b) => at(a) - at(b) || (a < b ? -1 : a > b ? 1 : 0));
  const out: Row = {};
  for (const k of keys) {
    const v = tidy(row[k]);
    const name = shown.get(k) ?? k;
    const kind = spec.kinds[name];
    if (v === undefined || (kind !== undefined && !isKind(v, kind))) continue;
    out[name] = v;
  }
  for (const h of spec.hidden ?? []) {
    if (h.includes('.') && !all && asked?.includes(h) !== true) deletePath(out, h);
  }
  return out;
}

/**
 * Guest-agent answers wrap their payload (`{ result: ... }`) and may report a failure inside a 200
 * (`{ result: { error: {...} } }`): take the payload out, and turn such an answer into a failure so
 * that the tool's `errors` rules apply to it as to any other.
 */
export function unwrapAnswer(data: unknown, spec: OutputSpec): { data: unknown } | { failure: string } {
  let out = data;
  if (spec.unwrap !== undefined && typeof out === 'object' && out !== null && !Array.isArray(out) && Object.hasOwn(out, spec.unwrap)) {
    out = (out as Row)[spec.unwrap];
  }
  if (spec.body_error !== undefined && typeof out === 'object' && out !== null && !Array.isArray(out) && Object.hasOwn(out, spec.body_error)) {
    const err = (out as Row)[spec.body_error];
    const words = typeof err === 'string' ? err : typeof err === 'object' && err !== null ? ((err as Row).desc ?? (err as Row).message ?? JSON.stringify(err)) : String(err);
    return { failure: typeof words === 'string' ? words : JSON.stringify(words) };
  }
  return { data: out };
}

/** The shaped answer, and its JSON text (made once: it is both the budget measure and the text content). */
export interface Shaped {
  structured: Record<string, unknown>;
  text: string;
}

function shaped(structured: Record<string, unknown>): Shaped {
  return { structured, text: JSON.stringify(structured) };
}

/** UTF-8 size of a JSON text, without encoding it when it is clearly small enough. */
function textBytes(text: string, budget: number): number {
  return text.length * 3 <= budget ? text.length : Buffer.byteLength(text);
}

function byteLength(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v));
}

/**
 * A list answer filtered and sorted, before paging: what every page of one question is cut from.
 * Rows hold the fields filtering and sorting need in their typed form; the rest are made per page.
 */
export interface Listing {
  rows: Row[];
  /** Kept for later pages: a page copies its rows before shaping them (see keepListing). */
  kept?: boolean;
  extras: Record<string, unknown>;
  total: number;
  /** Type steps not applied yet, and whether derived fields are made yet. */
  late: TypeStep[];
  derived: boolean;
}

/**
 * Filters and sorts a list answer. `data` is taken over (it is changed in place): pass an answer
 * parsed for this call, never one that is kept or shared.
 */
export function listRows(data: unknown[], spec: OutputSpec, params: CompiledParam[], args: Record<string, unknown>, upstreamTotal?: number): Listing {
  let rows = data.filter((r): r is Row => typeof r === 'object' && r !== null && !Array.isArray(r)).map((r) => prepare(r, spec));
  const extras: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(spec.extras ?? {})) {
    extras[name] = rows.filter((r) => matches(r, rule.where)).map((r) => r[rule.pluck]);
  }
  if (spec.rows !== undefined) {
    const where = spec.rows;
    rows = rows.filter((r) => matches(r, where));
  }
  if (spec.rows_with !== undefined) {
    const wanted = spec.rows_with;
    rows = rows.filter((r) => wanted.some((f) => r[f] !== undefined && r[f] !== null));
  }
  // Filtering and sorting need only a few fields in their typed form: normalise those on every row,
  // everything else only on the page that is returned.
  const sortName = (args.sort as string | undefined) ?? spec.key;
  const sortField = sortName === undefined ? undefined : (spec.sort_by?.[sortName] ?? sortName);
  const filters = params.filter((p) => p.in === 'filter' && args[p.arg] !== undefined);
  const needed = new Set(filters.map((p) => p.field));
  if (sortField !== undefined) needed.add(sortField);
  if (spec.key !== undefined) needed.add(spec.key);
  const deriveEarly = Object.keys(spec.derive).some((name) => needed.has(name));
  if (deriveEarly) for (const rule of Object.values(spec.derive)) for (const f of rule.percent) needed.add(f.split('.')[0] ?? f);
  const steps = typeSteps(spec);
  const early = steps.filter((s) => needed.has(s.key));
  const late = steps.filter((s) => !needed.has(s.key));
  if (early.length > 0 || deriveEarly) {
    for (const r of rows) {
      applySteps(r, early, normalise);
      if (deriveEarly) derive(r, spec);
    }
  }
  for (const p of filters) {
    const want = args[p.arg];
    rows = rows.filter((r) => passesFilter(r, p, want));
  }
  if (sortField !== undefined) sortRows(rows, sortField, args.order === 'desc' ? -1 : 1, spec.key);
  const total = spec.paged ? rows.length : (upstreamTotal ?? rows.length);
  return { rows, extras: cleanValue(extras) as Record<string, unknown>, total, late, derived: deriveEarly };
}

/**
 * The listing to keep for later pages. Its rows stay as they are: each page copies the rows it
 * shows (a few dozen) rather than the listing being copied once (thousands).
 */
export function keepListing(listing: Listing): Listing {
  return { ...listing, kept: true };
}

/** Where the page asked for starts and how many rows it holds at most (all of them when not paged). */
export function pageWindow(spec: OutputSpec, args: Record<string, unknown>, rows: number): { offset: number; limit: number } {
  return { offset: (args.offset as number | undefined) ?? 0, limit: spec.paged ? ((args.limit as number | undefined) ?? spec.page) : rows };
}

/** One page of a listing, within `budget` bytes. The page's rows are shaped in place unless the listing is kept. */
export function pageOf(listing: Listing, spec: OutputSpec, args: Record<string, unknown>, budget: number): Shaped {
  const { rows, total, late } = listing;
  const { offset, limit } = pageWindow(spec, args, rows.length);
  const page = spec.paged ? rows.slice(offset, offset + limit) : rows;
  const steps = typeSteps(spec);
  let items: unknown[] = page.map((row) => {
    const r = listing.kept === true ? structuredClone(row) : row;
    applySteps(r, late, normalise);
    if (!listing.derived) derive(r, spec);
    keepApplicable(r, spec);
    applySteps(r, steps, present);
    return spec.pluck !== undefined ? r[spec.pluck] : finish(r, spec, args);
  });
  items = cleanValue(items) as unknown[];

  const base: Record<string, unknown> = { total, offset };
  // Without a limit the page is as many rows as fit the answer's budget: being cut is not news then.
  const asked = spec.paged && args.limit !== undefined;
  if (asked) base.limit = limit;
  Object.assign(base, listing.extras);
  let shown = items.length;
  const result = (): Record<string, unknown> => {
    const r: Record<string, unknown> = { items: items.slice(0, shown), ...base };
    const end = offset + shown;
    if (end < total) r.next_offset = end;
    if (shown < items.length && asked) {
      r.truncated = {
        omitted: items.length - shown,
        reason: `answer cut at ${budget} bytes`,
        hint: `call again with offset=${end}${spec.fields ? ', a smaller limit or fewer fields' : ' or a smaller limit'}`,
      };
    }
    return r;
  };
  let answer = shaped(result());
  // Room for the line saying how many remain, when some do whatever fits.
  const line = offset + items.length < total ? 80 : 0;
  if (textBytes(answer.text, budget) > budget - line) {
    // Largest prefix of whole records that fits: sizes are additive, so one pass finds it.
    const overhead = byteLength({ ...result(), items: [] }) + 200;
    let used = overhead;
    shown = 0;
    for (const item of items) {
      used += byteLength(item) + 1;
      if (used > budget) break;
      shown++;
    }
    answer = shaped(result());
  }
  const end = offset + shown;
  // One short line for the model that reads the text: how many remain and how to get them.
  if (end < total) answer.text += `\n${total - end} more: call again with offset=${end}`;
  return answer;
}

/** Shapes a list answer: filtered, sorted and paged. Like listRows, it takes `data` over. */
export function shapeList(data: unknown[], spec: OutputSpec, params: CompiledParam[], args: Record<string, unknown>, budget: number, upstreamTotal?: number): Shaped {
  return pageOf(listRows(data, spec, params, args, upstreamTotal), spec, args, budget);
}

/** Names listed in a record's truncation note at most: the rest are counted. */
export const OMITTED_NAMES_MAX = 50;
/** Room kept for the truncation note itself (reason, hint, count, listed names). */
const NOTE_BYTES = 300;
const NOTE_NAMES_BYTES = 2000;

/**
 * A record's fields cut to the budget, largest first. Each field is measured once, and sizes add up
 * (`{` + `"key":value` joined by commas + `}`), so one pass over the fields sorted by size decides
 * what goes: nothing is serialised again per field removed.
 */
function trimRecord(out: Row, budget: number, hopeless: readonly string[] = []): Row {
  const entries = Object.entries(out).map(([k, v]) => {
    const value = JSON.stringify(v) as string | undefined;
    return { k, size: value === undefined ? 0 : Buffer.byteLength(JSON.stringify(k)) + 1 + Buffer.byteLength(value) + 1 };
  });
  let total = 2 + entries.reduce((sum, e) => sum + e.size, 0);
  const gone = new Set<string>();
  const names: string[] = [];
  let namesBytes = 0;
  let count = 0;
  const omit = (k: string): void => {
    count++;
    const nameBytes = Buffer.byteLength(JSON.stringify(k)) + 1;
    if (names.length < OMITTED_NAMES_MAX && namesBytes + nameBytes <= NOTE_NAMES_BYTES) {
      names.push(k);
      namesBytes += nameBytes;
    }
  };
  for (const k of hopeless) omit(k);
  for (const e of [...entries].sort((a, b) => b.size - a.size)) {
    if (total + namesBytes <= budget - NOTE_BYTES) break;
    gone.add(e.k);
    total -= e.size;
    omit(e.k);
  }
  const kept: Row = {};
  for (const e of entries) if (!gone.has(e.k)) kept[e.k] = out[e.k];
  const more = count - names.length;
  kept.truncated = {
    omitted_fields: names,
    ...(more > 0 ? { omitted_more: more } : {}),
    reason: `answer cut at ${budget} bytes`,
    hint: more > 0 ? 'ask for fewer fields with fields=[...]' : 'ask for these with fields=[...] one at a time',
  };
  return kept;
}

/**
 * The longest prefix of `text` whose JSON string form (quotes and escapes included) takes at most
 * `bytes` UTF-8 bytes, never splitting a surrogate pair. One pass over the characters kept.
 */
export function cutJsonString(text: string, bytes: number): string {
  let used = 2;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let cost: number;
    if (c === 0x22 || c === 0x5c || c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d) cost = 2;
    else if (c < 0x20) cost = 6;
    else if (c < 0x80) cost = 1;
    else if (c < 0x800) cost = 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      // A pair is one 4-byte character; a lone surrogate is written as a 6-character escape.
      if (next >= 0xdc00 && next <= 0xdfff) {
        if (used + 4 > bytes) break;
        used += 4;
        i++;
        continue;
      }
      cost = 6;
    } else if (c >= 0xdc00 && c <= 0xdfff) cost = 6;
    else cost = 3;
    if (used + cost > bytes) break;
    used += cost;
  }
  return text.slice(0, i);
}

/** Shapes a record or value answer; like shapeList, it takes `data` over. */
export function shapeRecord(data: unknown, spec: OutputSpec, args: Record<string, unknown>, budget: number): Shaped {
  if (spec.shape === 'value' || typeof data !== 'object' || data === null || Array.isArray(data)) {
    const value = cleanValue(data);
    const answer = shaped({ value });
    if (textBytes(answer.text, budget) > budget) {
      // A text is cut as text; anything else as its JSON form. Either way the cut piece, once
      // written as a JSON string, fits the room left after the note.
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      const note = { reason: `answer cut at ${budget} bytes` };
      const room = budget - Buffer.byteLength(JSON.stringify({ value: '', truncated: note })) - 3;
      return shaped({ value: `${cutJsonString(text, room)}…`, truncated: note });
    }
    return answer;
  }
  const row = prepare(data as Row, spec);
  applyTypes(row, spec, normalise);
  derive(row, spec);
  keepApplicable(row, spec);
  applyTypes(row, spec, present);
  const picked = finish(row, spec, args);
  // A field holding more values than the budget has bytes cannot be shown whatever cleaning does to
  // it: it is left out before it is cleaned or serialised, so a huge field costs one bounded count.
  const hopeless: string[] = [];
  for (const [k, v] of Object.entries(picked)) {
    if (typeof v === 'object' && v !== null && countValues(v, budget) > budget) {
      hopeless.push(k);
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- picked is our own copy
      delete picked[k];
    }
  }
  const out = cleanValue(picked) as Row;
  if (hopeless.length > 0) return shaped(trimRecord(out, budget, hopeless));
  const answer = shaped(out);
  return textBytes(answer.text, budget) > budget ? shaped(trimRecord(out, budget)) : answer;
}

/** The values in `v` (itself included), counted up to just past `limit`: work bounded by the limit. */
function countValues(v: unknown, limit: number): number {
  let n = 1;
  if (typeof v !== 'object' || v === null) return n;
  for (const x of Array.isArray(v) ? v : Object.values(v as Row)) {
    n += countValues(x, limit - n);
    if (n > limit) return n;
  }
  return n;
}
