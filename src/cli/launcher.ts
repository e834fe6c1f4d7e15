// proxmox-mcp entry point (dist/cli.js). The server is one bundle (server.cjs) compiled with a V8 code
// cache made at build time. Loading it (the MCP SDK, ajv, the manifest) is most of start-up, and none of
// it is needed to answer the host's first two requests: `initialize` and `tools/list` have fixed answers,
// recorded from the real server at build time (dist/startup.json). So the launcher answers those two
// itself, then loads the server and hands it the connection: every message received so far is given
// back to the server's stdio transport, which processes them in order and whose answers to the two
// already-answered requests are dropped. Anything unusual (another request first, an unknown shape,
// a custom manifest, the strict token check, a bad configuration) goes to the full server at once.
import { readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { loadConfig, type Config } from './config.js';
import { tuneV8 } from '../memory.js';

export interface Startup {
  /** Legacy protocol versions the server accepts, and the one it answers with otherwise. */
  versions: string[];
  fallback: string;
  /** JSON text of the `initialize` result, per negotiated version. */
  initialize: Record<string, string>;
  /** JSON text of each distinct `tools/list` result, and which one each version gets. */
  toolLists: string[];
  tools: Record<string, number>;
}

/** What the launcher hands the server after a fast start. */
export interface Handoff {
  /** The configuration the launcher read (and so checked) already. */
  config: Config;
  /** Requests the launcher answered; the server's own answers to them are dropped. */
  answered: Set<string | number>;
}

/** What the server bundle exports: `main` runs the CLI. */
export interface ServerBundle {
  main(handoff?: Handoff): Promise<void>;
}

const dir = dirname(fileURLToPath(import.meta.url));

function loadServer(): ServerBundle {
  const file = join(dir, 'server.cjs');
  const cacheFile = `${file}.cache`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // A cache made by another Node.js version is rejected by V8 and the bundle is compiled as usual.
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  // Set only by scripts/build.ts: after serving a first tools/list, write the cache and stop.
  if (process.env.PROXMOX_MCP_BUILD_CODE_CACHE === '1') {
    setTimeout(() => {
      writeFileSync(cacheFile, script.createCachedData());
      process.exit(0);
    }, 1500).unref();
  }
  const module = { exports: {} as ServerBundle };
  (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

/**
 * Off: a recorded tools/list cannot know the token's privileges, which decide what is listed (tools
 * the token cannot use are hidden, or described as unusable); only the full server, after reading
 * them, can answer it. The launcher still loads the server from its code cache. With
 * PROXMOX_MCP_FAST_START=recorded it answers as recorded, right only for a token that can use every tool.
 */
const FAST_PATH: boolean = process.env.PROXMOX_MCP_FAST_START === 'recorded';

function readStartup(): { startup: Startup; config: Config } | undefined {
  const env = process.env;
  if (!FAST_PATH || process.argv.length > 2 || env.PROXMOX_MCP_BUILD_CODE_CACHE === '1' || env.PROXMOX_MCP_NO_FAST_START === '1') return undefined;
  try {
    // A custom manifest or the strict token check changes what is answered, or when: no fast path.
    const config = loadConfig();
    if (config.toolsFile !== undefined || config.extraToolsFile !== undefined || config.requireReadonlyToken) return undefined;
    const { tools } = config;
    if (tools.toolsets !== undefined || tools.allow.length > 0 || tools.deny.length > 0) return undefined;
    return { startup: JSON.parse(readFileSync(join(dir, 'startup.json'), 'utf8')) as Startup, config };
  } catch {
    // A bad configuration is reported by the server itself, exactly as without this path.
    return undefined;
  }
}

type Id = string | number;

const MAX_FAST_LINE = 1 << 20;
type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is Id => typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));

/** An `initialize` the SDK would accept as it is, with no per-request protocol claim. */
function plainInitialize(m: Json): m is Json & { id: Id; params: { protocolVersion: string } } {
  const p = m.params;
  return (
    m.method === 'initialize' &&
    isId(m.id) &&
    isObject(p) &&
    p._meta === undefined &&
    typeof p.protocolVersion === 'string' &&
    isObject(p.capabilities) &&
    isObject(p.clientInfo) &&
    typeof p.clientInfo.name === 'string' &&
    typeof p.clientInfo.version === 'string'
  );
}

/** `tools/list` for the first (only) page, with nothing else asked. */
function plainToolsList(m: Json): m is Json & { id: Id } {
  return m.method === 'tools/list' && isId(m.id) && (m.params === undefined || (isObject(m.params) && Object.keys(m.params).length === 0));
}

function serveFast(startup: Startup, config: Config): void {
  const stdin = process.stdin;
  const received: Buffer[] = [];
  let pending: Buffer = Buffer.alloc(0);
  const answered = new Set<Id>();
  let version: string | undefined;
  let handing = false;

  const answer = (id: Id, result: string): void => {
    answered.add(id);
    process.stdout.write(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${result}}\n`);
  };

  // A host that went away (EPIPE) needs no more answers.
  const onStdoutError = (): void => {
    process.exit(0);
  };

  const handOver = (): void => {
    if (handing) return;
    handing = true;
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    process.stdout.off('error', onStdoutError);
    stdin.pause();
    // Everything read so far goes back to the front of stdin, for the server's transport to read again.
    if (received.length > 0) stdin.unshift(Buffer.concat(received));
    startServer({ config, answered });
  };

  // Returns false when the message needs the full server.
  const handle = (line: Buffer): boolean => {
    let m: unknown;
    try {
      m = JSON.parse(line.toString('utf8'));
    } catch {
      return false;
    }
    if (!isObject(m) || m.jsonrpc !== '2.0') return false;
    if (version === undefined && plainInitialize(m)) {
      const asked = m.params.protocolVersion;
      version = startup.versions.includes(asked) ? asked : startup.fallback;
      const init = startup.initialize[version];
      if (init === undefined || startup.tools[version] === undefined) return false;
      answer(m.id, init);
      return true;
    }
    if (version !== undefined && m.method === 'notifications/initialized' && m.id === undefined) return true;
    if (version !== undefined && plainToolsList(m)) {
      answer(m.id, startup.toolLists[startup.tools[version] ?? -1] ?? '{"tools":[]}');
      // The host has what it needs to show the tools: load the server now.
      setImmediate(handOver);
      return true;
    }
    return false;
  };

  function onData(chunk: Buffer): void {
    received.push(chunk);
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let newline = pending.indexOf(0x0a);
    while (newline !== -1 && !handing) {
      let end = newline;
      if (end > 0 && pending[end - 1] === 0x0d) end--;
      const line = pending.subarray(0, end);
      pending = pending.subarray(newline + 1);
      if (line.length > 0 && !handle(line)) {
        handOver();
        return;
      }
      newline = pending.indexOf(0x0a);
    }
    // A line this long is no initialize or tools/list: the server's transport, with its own limits, takes it.
    if (!handing && pending.length > MAX_FAST_LINE) handOver();
  }
  // Nothing is in flight here: a host that closes stdin has had every answer it asked for.
  function onEnd(): void {
    process.exit(0);
  }
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  process.stdout.on('error', onStdoutError);
  // A host that initializes and then waits before listing tools gets the full server meanwhile.
  setTimeout(handOver, 250).unref();
}

function startServer(handoff?: Handoff): void {
  loadServer()
    .main(handoff)
    .catch((error: unknown) => {
      process.stderr.write(`proxmox-mcp: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}

// Before anything grows the heap or compiles undici's parser (src/memory.ts says why).
tuneV8();
const fast = readStartup();
if (fast === undefined) {
  startServer();
} else {
  serveFast(fast.startup, fast.config);
}
