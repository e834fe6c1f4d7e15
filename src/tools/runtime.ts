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
import type { ApiCatalogue } from './api-reader.js';

/** Read by get_clusters for quorum and node count. */

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

export const LISTING_REREAD =
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

export interface RuntimeOptions {
  /** Per list tool: the note its answers carry when rows may be missing because of the token's privileges. */
  partialRows?: ReadonlyMap<string, string>;
  /** The pinned API's GET endpoints, for the generic tools of the `api` toolset. */
  api?: ApiCatalogue;
  /** Several clusters: each with its own client and notes; a call names one with `cluster` (default: the first), or `*` for a merged list. */
  clusters?: ClusterTarget[];
}

export interface ClusterTarget {
  name: string;
  upstream: Upstream;
  partialRows?: ReadonlyMap<string, string>;
}

/** The rows one cluster answered for a merged list, or why it did not. */
type Gathered = { rows: unknown[] } | { failure: string };

export function createRuntime(upstream: Upstream, limits: RuntimeLimits, logger: Logger, options: RuntimeOptions = {}): Runtime {
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

  const targets: ClusterTarget[] = options.clusters ?? [{ name: 'default', upstream, ...(options.partialRows === undefined ? {} : { partialRows: options.partialRows }) }];
  const targetFor = (args: Record<string, unknown>): ClusterTarget => targets.find((t) => t.name === args.cluster) ?? (targets[0] as ClusterTarget);

  return {
    async call(tool, args, outerSignal) {
      if (tool.generic === 'find') return hideSecret(find(tool, args));
      if (tool.generic === 'clusters') return hideSecret(await clusters(tool, args, outerSignal));
      if (tool.generic === 'get') return hideSecret(await read(tool, args, outerSignal));
      if (args.cluster === '*' && tool.output.shape === 'list') return hideSecret(await merged(tool, args, outerSignal));
      return hideSecret(await run(tool, args, outerSignal, targetFor(args)));
    },
  };

  /** `get_clusters`: each cluster's name, whether it answers, its release, quorum and node count. */
  async function clusters(tool: CompiledTool, args: Record<string, unknown>, outerSignal?: AbortSignal): Promise<ToolResult> {
    const signal = outerSignal === undefined ? AbortSignal.timeout(limits.callTimeoutMs) : AbortSignal.any([outerSignal, AbortSignal.timeout(limits.callTimeoutMs)]);
    const rows = await Promise.all(
      targets.map(async (t) => {
        const statusPath = limits.api.clusterStatusPath;
        const [version, status] = await Promise.all([
          t.upstream.read(limits.api.versionPath, signal),
          statusPath === undefined ? undefined : t.upstream.get({ template: statusPath, path: {}, query: {}, signal }),
        ]);
        const row: Record<string, unknown> = { cluster: t.name, reachable: version.ok };
        if (!version.ok) row.error = proxmoxWords(version);
        else row.release = (version.data as { version?: unknown }).version;
        if (status?.ok === true && Array.isArray(status.data)) {
          const entries = status.data as Record<string, unknown>[];
          const summary = entries.find((e) => e.type === 'cluster');
          row.quorate = summary === undefined ? true : summary.quorate === 1;
          row.nodes = entries.filter((e) => e.type === 'node').length;
        }
        return row;
      }),
    );
    const answer = pageOf(listRows(rows, tool.output, [], args), tool.output, args, limits.maxResultBytes);
    return { structuredContent: answer.structured, text: answer.text, isError: false };
  }

  /** `cluster: "*"`: one list from every cluster, each row saying its cluster; sorted, paged and budgeted as one. */
  async function merged(tool: CompiledTool, args: Record<string, unknown>, outerSignal?: AbortSignal): Promise<ToolResult> {
    // A later page comes from the merged listing kept for the first.
    const budget = tool.output.budget ?? limits.maxResultBytes;
    const spec = tool.output.fields === undefined ? tool.output : { ...tool.output, fields: [...tool.output.fields, 'cluster'] };
    const question = tool.output.paged ? questionKey(tool.name, args) : undefined;
    const { offset, limit } = pageWindow(spec, args, 0);
    const kept = question === undefined || offset === 0 ? undefined : listings.get(question);
    if (kept !== undefined) {
      const answer = pageOf(kept, spec, args, budget);
      return { structuredContent: answer.structured, text: answer.text, isError: false };
    }
    const answers = await Promise.all(targets.map((t) => run(tool, args, outerSignal, t, true)));
    const rows: unknown[] = [];
    const failed: { cluster: string; error: string }[] = [];
    const partial: Record<string, string> = {};
    answers.forEach((a, i) => {
      const t = targets[i] as ClusterTarget;
      if ('failure' in a) failed.push({ cluster: t.name, error: a.failure });
      else if ('rows' in a) {
        for (const row of a.rows) if (typeof row === 'object' && row !== null) rows.push({ ...(row), cluster: t.name });
        const note = t.partialRows?.get(tool.name);
        if (note !== undefined) partial[t.name] = note;
      } else failed.push({ cluster: t.name, error: a.text });
    });
    const listing = listRows(rows, spec, tool.params, args);
    if (failed.length > 0) listing.extras.clusters_failed = failed;
    if (Object.keys(partial).length > 0) listing.extras.permissions = partial;
    // A later page whose merged listing is not held here was read afresh: rows may have shifted.
    if (question !== undefined && offset > 0) listing.extras.listing_reread = LISTING_REREAD;
    const keep = question !== undefined && listing.total > offset + limit ? keepListing(listing) : listing;
    if (question !== undefined && keep !== listing) listings.set(question, keep, keep.rows.length);
    const answer = pageOf(keep, spec, args, budget);
    return { structuredContent: answer.structured, text: answer.text, isError: false };
  }

  function catalogue(): ApiCatalogue {
    if (options.api === undefined) throw new Error('the api toolset was chosen without its catalogue');
    return options.api;
  }

  function find(tool: CompiledTool, args: Record<string, unknown>): ToolResult {
    const rows = catalogue()
      .find(String(args.words))
      .map((e) => {
        const row: Record<string, unknown> = { path: e.template, answer: e.list ? 'list' : 'record', privilege: e.privilege };
        if (e.queryParams.length > 0) row.params = e.queryParams.map((p) => (p.required === true ? `${p.name} (required)` : p.name));
        return row;
      });
    const answer = pageOf(listRows(rows, tool.output, [], args), tool.output, args, limits.maxResultBytes);
    return { structuredContent: answer.structured, text: answer.text, isError: false };
  }

  /** `api_get`: the concrete path matched to a template of the pin and checked before anything is sent. */
  async function read(tool: CompiledTool, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolResult> {
    const path = String(args.path);
    const api = catalogue();
    const refused = api.refused(path);
    if (refused !== undefined) return failure(`${refused}. Nothing was sent to Proxmox.`);
    const match = api.match(path);
    if (match === undefined) return failure(`GET ${path} is not an endpoint of the pinned ${limits.api.product} API. Find one with api_find (words in its path); nothing was sent.`);
    const { endpoint } = match;
    const params = (args.params ?? {}) as Record<string, unknown>;
    const values = { ...api.typedValues(endpoint, match.values), ...params };
    const clash = Object.keys(params).find((k) => k in match.values);
    const problem = clash === undefined ? api.check(endpoint, values) : `"${clash}" is part of the path, not a parameter`;
    if (problem !== undefined) return failure(`Invalid parameters for GET ${endpoint.template}: ${problem}. Nothing was sent to Proxmox.`);
    const one = api.toolFor(endpoint, { ...tool, name: `${tool.name} ${endpoint.template}` });
    const runArgs: Record<string, unknown> = { ...values };
    if (one.output.paged) {
      if (args.limit !== undefined) runArgs.limit = args.limit;
      if (args.offset !== undefined) runArgs.offset = args.offset;
    } else if (args.limit !== undefined || args.offset !== undefined) {
      return failure(`GET ${endpoint.template} pages itself: pass its own parameters in params (${endpoint.queryParams.map((p) => p.name).join(', ')}) instead of limit and offset. Nothing was sent.`);
    }
    if (args.cluster !== undefined) runArgs.cluster = args.cluster;
    return run(one, runArgs, signal, targetFor(args));
  }

  async function run(tool: CompiledTool, args: Record<string, unknown>, outerSignal: AbortSignal | undefined, target: ClusterTarget): Promise<ToolResult>;
  async function run(tool: CompiledTool, args: Record<string, unknown>, outerSignal: AbortSignal | undefined, target: ClusterTarget, gather: true): Promise<Gathered | ToolResult>;
  async function run(tool: CompiledTool, given: Record<string, unknown>, outerSignal: AbortSignal | undefined, target: ClusterTarget, gather = false): Promise<Gathered | ToolResult> {
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
    const question = tool.output.shape === 'list' && tool.output.paged && !gather ? questionKey(tool.name, args) : undefined;
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
      res = await target.upstream.get({ template: tool.path, path, query, signal: controller.signal });
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
      if (gather) return { failure: describeFailure(tool, res, args, Math.min(Date.now() - started, limits.callTimeoutMs), limits.api) };
      return failure(describeFailure(tool, res, args, Math.min(Date.now() - started, limits.callTimeoutMs), limits.api));
    }
    logger.debug(`${tool.name}: ok in ${Date.now() - started} ms`);

    let answer;
    if (tool.output.shape === 'list') {
      if (!Array.isArray(res.data)) {
        return failure(`Proxmox answered ${tool.path} with something other than a list; the pinned API may not match this host. Run "proxmox-mcp doctor".`);
      }
      if (gather) return { rows: res.data };
      const listing = listRows(res.data, tool.output, tool.params, args, res.total);
      const partial = target.partialRows?.get(tool.name);
      if (partial !== undefined) listing.extras.permissions = partial;
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
