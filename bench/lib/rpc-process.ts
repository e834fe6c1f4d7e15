// A minimal newline-delimited JSON-RPC client over a child's stdio, used instead of the SDK client so
// the timings measure the server and not the client. Answers are matched to requests by id, so many
// requests may be in flight on one pipe.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface RpcMessage {
  id?: number | string | null;
  result?: unknown;
  error?: { code: number; message: string };
}

export interface RpcAnswer {
  message: RpcMessage;
  /** From writing the request to reading the whole answer line. */
  ms: number;
  /** Length of the answer line in bytes, without the newline. */
  bytes: number;
}

interface Waiter {
  started: number;
  resolve: (answer: RpcAnswer) => void;
  reject: (error: Error) => void;
}

const STDERR_KEPT = 8192;

export class RpcProcess {
  readonly child: ChildProcessWithoutNullStreams;
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private chunks: Buffer[] = [];
  private stderrTail = '';
  private exited = false;
  private readonly exitPromise: Promise<void>;

  constructor(command: string, args: readonly string[], env: Record<string, string>) {
    this.child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.onData(chunk);
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEPT);
    });
    // A closed pipe shows up as an exit below; the write error itself says nothing more.
    this.child.stdin.on('error', () => undefined);
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        const why = new Error(`server exited (code ${String(code)}, signal ${String(signal)}); stderr: ${this.stderrTail.trim()}`);
        for (const waiter of this.waiters.values()) waiter.reject(why);
        this.waiters.clear();
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    let newline = chunk.indexOf(0x0a, start);
    while (newline !== -1) {
      this.chunks.push(chunk.subarray(start, newline));
      const line = this.chunks.length === 1 ? (this.chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(this.chunks);
      this.chunks = [];
      this.onLine(line);
      start = newline + 1;
      newline = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) this.chunks.push(chunk.subarray(start));
  }

  private onLine(line: Buffer): void {
    const now = performance.now();
    if (line.length === 0) return;
    let message: RpcMessage;
    try {
      message = JSON.parse(line.toString('utf8')) as RpcMessage;
    } catch {
      this.stderrTail = `${this.stderrTail}\n[bench] not JSON on stdout: ${line.toString('utf8').slice(0, 200)}`.slice(-STDERR_KEPT);
      return;
    }
    if (typeof message.id !== 'number') return; // a notification or a server-to-client request
    const waiter = this.waiters.get(message.id);
    if (waiter === undefined) return;
    this.waiters.delete(message.id);
    waiter.resolve({ message, ms: now - waiter.started, bytes: line.length });
  }

  request(method: string, params?: unknown, timeoutMs = 30_000): Promise<RpcAnswer> {
    if (this.exited) return Promise.reject(new Error(`server has exited; stderr: ${this.stderrTail.trim()}`));
    const id = this.nextId++;
    const body = JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
    return new Promise<RpcAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`no answer to ${method} (id ${id}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(id, {
        started: performance.now(),
        resolve: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.stdin.write(`${body}\n`);
    });
  }

  notify(method: string, params?: unknown): void {
    this.child.stdin.write(`${JSON.stringify(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params })}\n`);
  }

  callTool(name: string, args: Record<string, unknown>, timeoutMs?: number): Promise<RpcAnswer> {
    return this.request('tools/call', { name, arguments: args }, timeoutMs);
  }

  /** Peak and current resident set size in KiB (Linux only; undefined elsewhere or once exited). */
  memory(): { peakKiB: number; currentKiB: number } | undefined {
    if (this.exited) return undefined;
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const peak = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
      const current = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
      return peak === undefined || current === undefined ? undefined : { peakKiB: Number(peak), currentKiB: Number(current) };
    } catch {
      return undefined;
    }
  }

  /** Closes stdin (a clean MCP shutdown), then kills the child if it has not gone within a second. */
  async close(): Promise<void> {
    if (this.exited) return;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 1000);
    await this.exitPromise;
    clearTimeout(timer);
  }
}

export const PROTOCOL_VERSION = '2025-06-18';

/** initialize, then notifications/initialized, as a host does; resolves when the server has answered. */
export async function handshake(rpc: RpcProcess): Promise<RpcAnswer> {
  const answer = await rpc.request('initialize', {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'proxmox-mcp-bench', version: '0.0.0' },
  });
  if (answer.message.error !== undefined) throw new Error(`initialize failed: ${answer.message.error.message}`);
  rpc.notify('notifications/initialized');
  return answer;
}

export interface ToolResult {
  isError: boolean;
  text: string;
  structured: unknown;
}

/** The tool result of a tools/call answer; a JSON-RPC error counts as a tool error. */
export function toolResult(answer: RpcAnswer): ToolResult {
  const { message } = answer;
  if (message.error !== undefined) return { isError: true, text: `JSON-RPC ${message.error.code}: ${message.error.message}`, structured: undefined };
  const result = message.result as { isError?: boolean; content?: { type: string; text?: string }[]; structuredContent?: unknown } | undefined;
  const text = (result?.content ?? []).map((c) => c.text ?? '').join('');
  return { isError: result?.isError === true, text, structured: result?.structuredContent };
}
