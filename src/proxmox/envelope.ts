// Reading an answer's JSON envelope, within bounds. JSON.parse takes any text, but what it makes
// costs memory and time per value: a 32 MiB answer of tiny values is millions of objects, and every
// pass after it (shaping, sanitising, serialising) walks them all. An answer nested thousands of
// levels deep parses, then overflows the stack of every recursive pass. One cheap linear scan of the
// text refuses both before anything is parsed.
import { setImmediate } from 'node:timers/promises';
import type { UpstreamFailure, UpstreamOk, UpstreamResult } from './client.js';

/** JSON values (objects, arrays, strings, keys included, numbers, literals) one answer may hold. */
const MAX_VALUES = 2_000_000;
/** Nesting one answer may have; Proxmox answers nest a handful of levels. */
export const MAX_DEPTH = 64;

export interface AnswerLimits {
  maxValues: number;
  maxDepth: number;
}

const DEFAULT_LIMITS: AnswerLimits = { maxValues: MAX_VALUES, maxDepth: MAX_DEPTH };

export type ScanVerdict = { ok: true; values: number } | { ok: false; why: 'values' | 'depth' };

/** Answers longer than this (in characters) are read in steps: see parseInSteps. */
export const STEPWISE_FROM = 512 * 1024;
/** Characters one step scans or parses at most (plus one value): a few milliseconds of work. */
const PIECE = 256 * 1024;

/** A container spanning at least PIECE characters: where it ends, and how it is cut into pieces. */
interface Container {
  end: number;
  /** Positions of the commas (at its own level) the pieces are cut at. */
  cuts: number[];
  /** Where its large children start; each is alone in its piece. */
  large: number[];
}

/** A container still open while scanning. */
interface Open {
  start: number;
  close: number;
  lastCut: number;
  lastComma: number;
  afterLarge: boolean;
  cuts: number[] | undefined;
  large: number[] | undefined;
}

interface ScanState {
  i: number;
  values: number;
  depth: number;
  /** Only when reading in steps: the open containers, and the large ones found. */
  open?: Open[];
  containers?: Map<number, Container>;
  piece?: number;
}

type StepVerdict = ScanVerdict | { ok: false; why: 'syntax' } | undefined;

/**
 * Scans `text` from `st.i` up to about `stop`: undefined while the text goes on, a verdict at its
 * end or as soon as a limit is passed. When reading in steps it also notes the large containers and
 * where to cut them, so that no piece of an answer is ever parsed in one step but a small one.
 */
function scanStep(text: string, st: ScanState, stop: number, limits: AnswerLimits): StepVerdict {
  const n = text.length;
  const open = st.open;
  const piece = st.piece ?? PIECE;
  let { i, values, depth } = st;
  while (i < stop) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string (or key): its end is the next quote not escaped by an odd run of backslashes.
      values++;
      let q = text.indexOf('"', i + 1);
      for (;;) {
        if (q === -1) return { ok: true, values };
        let b = q - 1;
        while (text.charCodeAt(b) === 0x5c) b--;
        if ((q - 1 - b) % 2 === 0) break;
        q = text.indexOf('"', q + 1);
      }
      i = q + 1;
    } else if (c === 0x7b || c === 0x5b) {
      values++;
      if (++depth > limits.maxDepth) return { ok: false, why: 'depth' };
      open?.push({ start: i, close: c + 2, lastCut: i, lastComma: i, afterLarge: false, cuts: undefined, large: undefined });
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (open !== undefined && !closeContainer(open, st.containers, i, c, piece)) return { ok: false, why: 'syntax' };
      i++;
      continue;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e) {
      // A number or a literal: one value, up to the next delimiter.
      values++;
      i++;
      for (;;) {
        const d = text.charCodeAt(i);
        if (d !== d || d === 0x2c || d === 0x7d || d === 0x5d || d === 0x3a || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
        i++;
      }
    } else {
      if (c === 0x2c && open !== undefined) {
        const top = open[open.length - 1];
        if (top !== undefined) {
          // A piece ends here when it is long enough, or when it holds a large child.
          if (top.afterLarge || i - top.lastCut >= piece) {
            (top.cuts ??= []).push(i);
            top.lastCut = i;
            top.afterLarge = false;
          }
          top.lastComma = i;
        }
      }
      i++;
      continue;
    }
    if (values > limits.maxValues) return { ok: false, why: 'values' };
  }
  Object.assign(st, { i, values, depth });
  return i >= n ? { ok: true, values } : undefined;
}

function closeContainer(open: Open[], containers: Map<number, Container> | undefined, i: number, c: number, piece: number): boolean {
  const done = open.pop();
  if (done?.close !== c) return false;
  if (i - done.start < piece) return true;
  containers?.set(done.start, { end: i, cuts: done.cuts ?? [], large: done.large ?? [] });
  const parent = open[open.length - 1];
  if (parent !== undefined) {
    // The large child gets a piece of its own: cut before it (unless a cut is there) and after it.
    if (parent.lastComma > parent.lastCut) {
      (parent.cuts ??= []).push(parent.lastComma);
      parent.lastCut = parent.lastComma;
    }
    parent.afterLarge = true;
    (parent.large ??= []).push(done.start);
  }
  return true;
}

/**
 * Counts the values in a JSON text and measures its nesting, stopping as soon as either passes its
 * limit. Strings are skipped with indexOf: on ordinary answers the scan costs a fraction of what JSON.parse then takes.
 * Syntax is not checked: JSON.parse does that afterwards.
 */
export function scanJson(text: string, limits: AnswerLimits = DEFAULT_LIMITS): ScanVerdict {
  return scanStep(text, { i: 0, values: 0, depth: 0 }, text.length, limits) as ScanVerdict;
}

const BLANK = /^[ \t\n\r]*$/;

class Unreadable extends Error {}

/**
 * JSON.parse in one step holds the event loop for as long as it runs: a second per 30 MB on a
 * loaded host, during which no other call, ping or cancellation is answered. A long text is scanned
 * in steps (counting values and depth as scanJson does, and noting where each large container can
 * be cut at its own commas), then parsed piece by piece with JSON.parse itself, giving the event
 * loop back between steps. Every piece is parsed as JSON, and what joins them (commas, keys, blanks)
 * is checked: the text is accepted exactly when JSON.parse would accept it, and makes the same value.
 */
export async function parseInSteps(
  text: string,
  limits: AnswerLimits = DEFAULT_LIMITS,
  piece = PIECE,
): Promise<{ ok: true; value: unknown } | { ok: false; why: 'values' | 'depth' | 'syntax' }> {
  const st: ScanState = { i: 0, values: 0, depth: 0, open: [], containers: new Map(), piece };
  let verdict: StepVerdict;
  while ((verdict = scanStep(text, st, st.i + piece, limits)) === undefined) await setImmediate();
  if (!verdict.ok) return verdict;
  if (st.open?.length !== 0) return { ok: false, why: 'syntax' };
  const containers = st.containers ?? new Map<number, Container>();
  let first = 0;
  while (first < text.length && BLANK.test(text.charAt(first))) first++;
  const top = containers.get(first);
  try {
    if (top === undefined) return { ok: true, value: JSON.parse(text) as unknown };
    if (!BLANK.test(text.slice(top.end + 1))) return { ok: false, why: 'syntax' };
    return { ok: true, value: await build(text, containers, first) };
  } catch {
    return { ok: false, why: 'syntax' };
  }
}

/** Sets a key as JSON.parse does: `__proto__` included, as an own property and never a prototype. */
function define(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

async function build(text: string, containers: Map<number, Container>, start: number): Promise<unknown> {
  const box = containers.get(start);
  if (box === undefined) throw new Unreadable();
  const isArray = text.charCodeAt(start) === 0x5b;
  const list: unknown[] = [];
  const record: Record<string, unknown> = {};
  const bounds = [start, ...box.cuts, box.end];
  let next = 0;
  for (let k = 0; k + 1 < bounds.length; k++) {
    const from = (bounds[k] ?? 0) + 1;
    const to = bounds[k + 1] ?? 0;
    const child = box.large[next];
    if (child !== undefined && child < to) {
      next++;
      const end = containers.get(child)?.end ?? to;
      const head = text.slice(from, child);
      if (!BLANK.test(text.slice(end + 1, to))) throw new Unreadable();
      const value = await build(text, containers, child);
      if (isArray) {
        if (!BLANK.test(head)) throw new Unreadable();
        list.push(value);
      } else {
        // `"key":` and nothing else: parsed as JSON, with a stand-in for the value.
        const keys = Object.keys(JSON.parse(`{${head}0}`) as object);
        if (keys.length !== 1) throw new Unreadable();
        define(record, keys[0] ?? '', value);
      }
      continue;
    }
    const piece = text.slice(from, to);
    // Only an empty container is blank inside; a blank piece elsewhere is a stray comma.
    if (BLANK.test(piece) && bounds.length > 2) throw new Unreadable();
    if (isArray) {
      for (const v of JSON.parse(`[${piece}]`) as unknown[]) list.push(v);
    } else {
      const part = JSON.parse(`{${piece}}`) as Record<string, unknown>;
      for (const key of Object.keys(part)) define(record, key, part[key]);
    }
    await setImmediate();
  }
  return isArray ? list : record;
}

function refusal(status: number, why: 'values' | 'depth', limits: AnswerLimits): UpstreamFailure {
  return why === 'values'
    ? { ok: false, status, kind: 'too-many-values', message: `the answer holds more than ${limits.maxValues} values` }
    : { ok: false, status, kind: 'invalid-json', message: `the answer is nested more than ${limits.maxDepth} levels deep` };
}

function notJson(status: number): UpstreamFailure {
  return { ok: false, status, kind: 'invalid-json', message: 'the answer was not valid JSON' };
}

function envelopeOf(status: number, body: unknown): UpstreamResult {
  if (typeof body !== 'object' || body === null || !('data' in body)) {
    return { ok: false, status, kind: 'invalid-json', message: 'the answer had no data envelope' };
  }
  const env = body as { data: unknown; total?: unknown };
  const result: UpstreamOk = { ok: true, data: env.data };
  const total = Number(env.total);
  if (env.total !== undefined && Number.isFinite(total)) result.total = total;
  return result;
}

/**
 * parseEnvelope, with a long 2xx answer read in steps (parseInSteps) so that other calls are
 * answered meanwhile. Error answers are short, or already parsed by openapi-fetch.
 */
export async function readEnvelope(status: number, reason: string, text: string, limits: AnswerLimits = DEFAULT_LIMITS, errorBody: 'json' | 'text' = 'json'): Promise<UpstreamResult> {
  if (status < 200 || status >= 300 || text.length <= STEPWISE_FROM) return parseEnvelope(status, reason, text, limits, errorBody);
  const parsed = await parseInSteps(text, limits);
  if (parsed.ok) return envelopeOf(status, parsed.value);
  return parsed.why === 'syntax' ? notJson(status) : refusal(status, parsed.why, limits);
}

/**
 * Reads a 2xx answer's `{ data, total }` envelope, or an error answer's `message` and `errors`; with
 * `errorBody: 'text'`, an error answer's body is the message itself, whatever its Content-Type says.
 */
export function parseEnvelope(status: number, reason: string, text: string, limits: AnswerLimits = DEFAULT_LIMITS, errorBody: 'json' | 'text' = 'json'): UpstreamResult {
  if (status >= 200 && status < 300) {
    const scan = scanJson(text, limits);
    if (!scan.ok) return refusal(status, scan.why, limits);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return notJson(status);
    }
    return envelopeOf(status, body);
  }
  // 401 and 595 answer with an empty or plain-text body; others may carry message/errors.
  let message = reason;
  let errors: Record<string, string> | undefined;
  if (errorBody === 'text' && text.trim() !== '') message = text;
  else if (text.trim().startsWith('{')) {
    // An error body too deep or too large to read is reported as what it is, not as a network failure.
    const scan = scanJson(text, limits);
    if (!scan.ok) return refusal(status, scan.why, limits);
    try {
      const body = JSON.parse(text) as { message?: unknown; errors?: unknown };
      if (typeof body.message === 'string' && body.message.trim() !== '') message = body.message;
      if (typeof body.errors === 'object' && body.errors !== null) {
        errors = Object.fromEntries(Object.entries(body.errors).map(([k, v]) => [k, String(v).trim()]));
      }
    } catch {
      // A broken error body still has its status and reason phrase.
    }
  }
  const failure: UpstreamFailure = { ok: false, status, kind: 'http', message: message.trim() || `HTTP ${status}` };
  if (errors !== undefined) failure.errors = errors;
  return failure;
}

/**
 * The text of an error body openapi-fetch has already parsed. It parses whatever JSON it is given,
 * so serialising it back can overflow the stack: such a body is unreadable, and said to be.
 */
export function errorBodyText(error: unknown): string | undefined {
  if (typeof error === 'string') return error;
  if (error === undefined) return '';
  try {
    return JSON.stringify(error);
  } catch {
    return undefined;
  }
}
