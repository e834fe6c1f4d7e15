// Reading an answer's JSON envelope, within bounds. JSON.parse takes any text, but what it makes
// costs memory and time per value: a 32 MiB answer of tiny values is millions of objects, and every
// pass after it (shaping, sanitising, serialising) walks them all. An answer nested thousands of
// levels deep parses, then overflows the stack of every recursive pass. One cheap linear scan of the
// text refuses both before anything is parsed.
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

/**
 * Counts the values in a JSON text and measures its nesting, stopping as soon as either passes its
 * limit. Strings are skipped with indexOf: on ordinary answers the scan costs a fraction of what JSON.parse then takes.
 * Syntax is not checked: JSON.parse does that afterwards.
 */
export function scanJson(text: string, limits: AnswerLimits = DEFAULT_LIMITS): ScanVerdict {
  const n = text.length;
  let values = 0;
  let depth = 0;
  let i = 0;
  while (i < n) {
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
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      i++;
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
      i++;
      continue;
    }
    if (values > limits.maxValues) return { ok: false, why: 'values' };
  }
  return { ok: true, values };
}

function refusal(status: number, why: 'values' | 'depth', limits: AnswerLimits): UpstreamFailure {
  return why === 'values'
    ? { ok: false, status, kind: 'too-many-values', message: `the answer holds more than ${limits.maxValues} values` }
    : { ok: false, status, kind: 'invalid-json', message: `the answer is nested more than ${limits.maxDepth} levels deep` };
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
      return { ok: false, status, kind: 'invalid-json', message: 'the answer was not valid JSON' };
    }
    if (typeof body !== 'object' || body === null || !('data' in body)) {
      return { ok: false, status, kind: 'invalid-json', message: 'the answer had no data envelope' };
    }
    const env = body as { data: unknown; total?: unknown };
    const result: UpstreamOk = { ok: true, data: env.data };
    const total = Number(env.total);
    if (env.total !== undefined && Number.isFinite(total)) result.total = total;
    return result;
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
