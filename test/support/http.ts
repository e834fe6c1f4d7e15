// Starts the built server over Streamable HTTP (`proxmox-mcp http`) on a free loopback port.
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { CLI } from './mcp.js';

export interface HttpServer {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop: () => Promise<void>;
}

export async function startHttp(env: Record<string, string>): Promise<HttpServer> {
  const child = spawn(process.execPath, [CLI, 'http'], {
    env: { PROXMOX_MCP_HTTP_LISTEN: '127.0.0.1:0', PROXMOX_LOG_LEVEL: 'INFO', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    resolve(code);
  }));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /at (https?:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(err);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    void exited.then((code) => {
      reject(new Error(`server exited (${String(code)}) before listening: ${err}`));
    });
  });
  return {
    url,
    child,
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request, so the test controls every header (Host included) and the body's size. */
export function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'POST', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}

export const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };

/** A 2025-era stateless tools/call body. */
export function callBody(tool: string, args: Record<string, unknown> = {}, id = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: args } });
}

/** The JSON-RPC message in a JSON or single-event SSE answer. */
export function message(body: string): { result?: Record<string, unknown>; error?: { code: number; message: string } } {
  const data = body.startsWith('{') ? body : (/^data: (.*)$/m.exec(body)?.[1] ?? '{}');
  return JSON.parse(data) as { result?: Record<string, unknown>; error?: { code: number; message: string } };
}
