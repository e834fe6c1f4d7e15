// The generic runtime: one function executes any manifest tool. Arguments arrive already checked
// against the tool's schema; here they are checked again against the spec's rules, sent as one
// guarded GET, and the answer is shaped; a later page of a list asked a moment ago is cut from the
// listing kept for its first page (src/tools/listing-cache.ts). Every failure becomes a short message for the model.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Logger } from '../logger.js';
import type { CompiledTool, ErrorRule } from '../manifest/compile.js';
import type { ApiDescription } from '../proxmox/api/index.js';
import type { Upstream, UpstreamFailure } from '../proxmox/client.js';
import { sanitizeText } from '../sanitize.js';
import { redactText, redactValue } from '../secrets.js';
import { keepListing, listRows, pageOf, pageWindow, shapeRecord, unwrapAnswer, type Listing } from './shape.js';
import { createSnapshots, questionKey } from './listing-cache.js';

export interface ToolResult {
  structuredContent?: Record<string, unknown>;
  text: string;
  isError: boolean;
}

export interface RuntimeLimits {
  callTimeoutMs: number;
  maxResultBytes: number;
  rateLimitPerMinute: number;
  maxArgumentBytes: number;
  /** The API spoken to: what its failures mean. */
  api: ApiDescription;
}

export interface Runtime {
  call(tool: CompiledTool, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolResult>;
}

const LISTING_REREAD =
  'The list was read again from Proxmox for this page: the listing its first page came from is not held by the server process that answered (several run behind one address, or it expired). Rows added or removed meanwhile may have shifted, so a row can be missing or repeated across pages; for one consistent listing, start again at offset 0.';

function failure(message: string): ToolResult {
  return { text: message, isError: true };
}

/** A fixed window would let a burst through at its edge; a token bucket refills smoothly. */
function createRateLimiter(perMinute: number): () => boolean {
  let tokens = perMinute;
  let last = Date.now();
  return () => {
    const now = Date.now();
    tokens = Math.min(perMinute, tokens + ((now - last) / 60_000) * perMinute);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

function proxmoxWords(f: UpstreamFailure): string {
  return sanitizeText(f.message.replace(/\s+$/, ''), 300);
}

/** What went wrong, in words that tell the model what to do next. */
function describeFailure(tool: CompiledTool, f: UpstreamFailure, args: Record<string, unknown>, timeoutMs: number, api: ApiDescription): string {
  const words = proxmoxWords(f);
  const node = typeof args.node === 'string' ? sanitizeText(args.node, 64) : undefined;
  switch (f.kind) {
    case 'timeout':
      return `Proxmox did not answer within ${Math.max(1, Math.round(timeoutMs / 1000))} s. The host or node may be overloaded or unreachable; try again later, or ask for less (a smaller limit or timeframe).`;
    case 'tls':
      return `The Proxmox host's TLS certificate was not accepted (${words}). The operator must set PROXMOX_SSL_CERT (CA file) or PROXMOX_TLS_FINGERPRINT; nothing was sent.`;
    case 'network':
      return `Cannot reach the Proxmox API (${words}). Check that the host is up; the operator may need to fix PROXMOX_HOST or PROXMOX_PORT.`;
    case 'too-large':
      return 'The answer from Proxmox was larger than PROXMOX_MAX_RESPONSE_BYTES allows. Ask for less: use filters, a node, a shorter timeframe or a smaller limit.';
    case 'too-many-values':
      return `The answer from Proxmox was refused unread: ${words}, more than one answer may hold (a bound on the server's memory and time). Ask for less: use filters, a node, a type, a shorter timeframe or a smaller limit.`;
    case 'invalid-argument':
      return `Invalid argument: ${words}. Send the text again as well-formed Unicode; nothing was sent to Proxmox.`;
    case 'invalid-json':
      return `Proxmox sent an answer that could not be read (${words}). Try again; if it persists the host may be behind a proxy that rewrites answers.`;
    case 'refused':
      return `Request refused before it was sent: ${words}. Use values returned by other tools (names and IDs they list).`;
    case 'http':
      break;
  }
  const s = f.status;
  if (s === 401) return 'Proxmox rejected the API token (401). The operator must check PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET; retrying will not help.';
  if (s === 403) return `Permission denied by Proxmox: ${words}. The token lacks this privilege (${tool.privilege}); the operator can grant ${api.readOnlyGrant} to the token. Other tools may still work.`;
  // Before the generic 400: an API may answer 400 to any failure its handler gives no status, an
  // unknown name included.
  const hint = api.failureHints.find((h) => (h.status === undefined || h.status === s) && (h.message === undefined || h.message.test(f.message)));
  if (hint !== undefined) return hint.describe({ words, node, path: tool.path });
  if (s === 400) {
    const detail = f.errors ? Object.entries(f.errors).map(([k, v]) => `${sanitizeText(k, 64)}: ${sanitizeText(v, 200)}`).join('; ') : words;
    return `Proxmox refused the arguments (${detail}). Fix them and call again.`;
  }
  if (s === 501) return `This Proxmox release does not offer ${tool.path} (${words}). The server's pinned API may be newer than the host.`;
  return `Proxmox answered ${s}: ${words}.`;
}

function ruleFor(rules: ErrorRule[], f: UpstreamFailure): ErrorRule | undefined {
  return rules.find((r) => (r.status === undefined || r.status === f.status) && new RegExp(r.match, 'iu').test(f.message));
}

function toWire(v: unknown, boolean: boolean): string | number {
  if (boolean) return v === true ? 1 : 0;
  return typeof v === 'number' ? v : String(v);
}

/** An integer argument sent as a string of digits ("100") is read as that number; the schema let only such strings through. */
function readIntegers(tool: CompiledTool, args: Record<string, unknown>): Record<string, unknown> {
  let out = args;
  for (const p of tool.params) {
    const v = args[p.arg];
    if (p.integer === true && typeof v === 'string' && /^-?[0-9]+$/.test(v)) {
      if (out === args) out = { ...args };
      out[p.arg] = Number(v);
    }
  }
  return out;
}

export function createRuntime(upstream: Upstream, limits: RuntimeLimits, logger: Logger): Runtime {
  // Schemas from the compiled manifest, checked when it was compiled: no meta-schema check here.
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false, validateSchema: false, meta: false });
  const upstreamValidators = new Map<string, ValidateFunction>();
  const allow = createRateLimiter(limits.rateLimitPerMinute);
  const listings = createSnapshots<Listing>();

  // Arguments are echoed in some answers ("Unknown node ..."): whatever the model sends, the token
  // secret never comes back out. The structured answer is redacted as values (its text is its JSON,
  // made again only when something changed); a failure's text is a sentence, redacted as text.
  const hideSecret = (result: ToolResult): ToolResult => {
    if (result.structuredContent === undefined) {
      const text = redactText(result.text);
      return text === result.text ? result : { text, isError: result.isError };
    }
    const structured = redactValue(result.structuredContent) as Record<string, unknown>;
    if (structured === result.structuredContent) return result;
    return { structuredContent: structured, text: JSON.stringify(structured), isError: result.isError };
  };

  return {
    async call(tool, args, outerSignal) {
      return hideSecret(await run(tool, args, outerSignal));
    },
  };

  async function run(tool: CompiledTool, given: Record<string, unknown>, outerSignal?: AbortSignal): Promise<ToolResult> {
    const args = readIntegers(tool, given);
    // Cancelled before it started (the host's cancellation arrived with the call): send nothing.
    if (outerSignal?.aborted === true) return failure('The call was cancelled; nothing was sent to Proxmox.');
    if (Buffer.byteLength(JSON.stringify(args)) > limits.maxArgumentBytes) {
      return failure(`Arguments are larger than ${limits.maxArgumentBytes} bytes. Send only the documented arguments, with short values.`);
    }
    if (!allow()) return failure(`Too many tool calls (limit ${limits.rateLimitPerMinute} a minute). Wait a few seconds and call again.`);

    const path: Record<string, string | number> = {};
    const query: Record<string, string | number> = { ...tool.fixedQuery };
    const upstreamValues: Record<string, unknown> = {};
    for (const p of tool.params) {
      const v = args[p.arg];
      if (v === undefined || p.in === 'filter') continue;
      upstreamValues[p.upstream] = v;
      if (p.in === 'path') path[p.upstream] = toWire(v, p.boolean);
      else query[p.upstream] = toWire(v, p.boolean);
    }
    let check = upstreamValidators.get(tool.name);
    if (check === undefined) {
      check = ajv.compile(tool.upstreamSchema);
      upstreamValidators.set(tool.name, check);
    }
    if (!check(upstreamValues)) {
      const e = check.errors?.[0];
      return failure(`Invalid argument ${e?.instancePath.slice(1) ?? ''}: ${e?.message ?? 'rejected'}. Use values returned by other tools.`);
    }

    // A later page of a question asked a moment ago: cut from the listing its first page was cut from.
    const budget = tool.output.budget ?? limits.maxResultBytes;
    const question = tool.output.shape === 'list' && tool.output.paged ? questionKey(tool.name, args) : undefined;
    const { offset, limit } = pageWindow(tool.output, args, 0);
    if (question !== undefined && offset > 0) {
      const kept = listings.get(question);
      if (kept !== undefined) {
        const answer = pageOf(kept, tool.output, args, budget);
        logger.debug(`${tool.name}: page at ${offset} from the listing kept for its first page`);
        return { structuredContent: answer.structured, text: answer.text, isError: false };
      }
    }

    // One controller and one timer per call: AbortSignal.any and AbortSignal.timeout cost more on the hot path.
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new DOMException('tool call timed out', 'TimeoutError'));
    }, limits.callTimeoutMs);
    const onOuterAbort = (): void => {
      controller.abort(outerSignal?.reason);
    };
    outerSignal?.addEventListener('abort', onOuterAbort, { once: true });
    const started = Date.now();
    let res;
    try {
      res = await upstream.get({ template: tool.path, path, query, signal: controller.signal });
    } finally {
      clearTimeout(timer);
      outerSignal?.removeEventListener('abort', onOuterAbort);
    }
    if (res.ok) {
      const inner = unwrapAnswer(res.data, tool.output);
      res = 'failure' in inner ? { ok: false as const, status: 200, kind: 'http' as const, message: inner.failure } : { ...res, data: inner.data };
    }
    if (!res.ok) {
      logger.warn(`${tool.name}: upstream ${res.status || res.kind} after ${Date.now() - started} ms: ${proxmoxWords(res)}`);
      const rule = ruleFor(tool.output.errors, res);
      if (rule?.result !== undefined) {
        const structured = { ...rule.result, message: rule.message };
        return { structuredContent: structured, text: JSON.stringify(structured), isError: false };
      }
      if (rule !== undefined) return failure(`${rule.message} (${proxmoxWords(res)})`);
      return failure(describeFailure(tool, res, args, Math.min(Date.now() - started, limits.callTimeoutMs), limits.api));
    }
    logger.debug(`${tool.name}: ok in ${Date.now() - started} ms`);

    let answer;
    if (tool.output.shape === 'list') {
      if (!Array.isArray(res.data)) {
        return failure(`Proxmox answered ${tool.path} with something other than a list; the pinned API may not match this host. Run "proxmox-mcp doctor".`);
      }
      const listing = listRows(res.data, tool.output, tool.params, args, res.total);
      // A later page with no listing kept for it here (its first page was answered by another
      // process behind the same address, or long ago): rows may have shifted since, so it says so,
      // and so does every page later cut from this listing.
      if (question !== undefined && offset > 0) listing.extras = { ...listing.extras, listing_reread: LISTING_REREAD };
      // Kept when rows remain after this page.
      const kept = question !== undefined && listing.total > offset + limit ? keepListing(listing) : listing;
      if (question !== undefined && kept !== listing) listings.set(question, kept, kept.rows.length);
      answer = pageOf(kept, tool.output, args, budget);
    } else {
      answer = shapeRecord(res.data, tool.output, args, budget);
    }
    return { structuredContent: answer.structured, text: answer.text, isError: false };
  }
}
