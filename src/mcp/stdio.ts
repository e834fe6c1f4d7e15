// Our stdio wire for the SDK's serveStdio: newline-delimited JSON-RPC on stdin and stdout, written
// against the SDK's public Transport interface. It differs from the SDK's own stdio transport in
// three ways a host or a script can see:
// - at the end of input the answers still being made are sent before the connection closes (within
//   `drainMs`), so a script that writes its requests and closes stdin reads every answer;
// - a line over the size limit is refused with a JSON-RPC error and the next lines are still served
//   (the SDK's transport closes the connection);
// - a batch (a JSON array) and a line that is not JSON get a JSON-RPC error instead of no answer.
import type { Readable, Writable } from 'node:stream';
import { deserializeMessage, isJSONRPCNotification, isJSONRPCRequest, isJSONRPCErrorResponse, isJSONRPCResultResponse, serializeMessage } from '@modelcontextprotocol/server';
import type { JSONRPCMessage, MessageExtraInfo, Transport } from '@modelcontextprotocol/server';

type Id = string | number;

const MAX_LINE_BYTES = 10 * 1024 * 1024;

export interface StdioOptions {
  /** How long answers still being made may take once input has ended. */
  drainMs: number;
  /** Longest message accepted, in bytes. */
  maxLineBytes?: number;
  /** Says why a line was refused (for the log). */
  warn?: (text: string) => void;
  stdin?: Readable;
  stdout?: Writable;
}

const isId = (v: unknown): v is Id => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

function errorLine(id: Id | null, code: number, message: string): string {
  return `${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`;
}

export class StdioLines implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  /** Settles once the connection has closed (end of input and answers sent, or close()). */
  readonly closed: Promise<void>;
  private resolveClosed: () => void = () => undefined;
  private readonly stdin: Readable;
  private readonly stdout: Writable;
  private readonly maxLineBytes: number;
  private readonly inFlight = new Set<Id>();
  private chunks: Buffer[] = [];
  private size = 0;
  /** Inside a refused over-long line: everything up to its newline is dropped. */
  private skipping = false;
  private ended = false;
  private isClosed = false;
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StdioOptions) {
    this.stdin = options.stdin ?? process.stdin;
    this.stdout = options.stdout ?? process.stdout;
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  start(): Promise<void> {
    this.stdin.on('data', this.onData);
    this.stdin.on('end', this.onEnd);
    this.stdin.on('close', this.onEnd);
    this.stdin.on('error', this.onInputError);
    this.stdout.on('error', this.onOutputError);
    if (this.stdin.readableEnded) setImmediate(this.onEnd);
    return Promise.resolve();
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      if (message.id !== undefined) this.inFlight.delete(message.id);
    }
    const written = this.write(serializeMessage(message));
    if (this.ended && this.inFlight.size === 0) void written.finally(() => this.close());
    return written;
  }

  close(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    this.isClosed = true;
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    this.stdin.off('data', this.onData);
    this.stdin.off('end', this.onEnd);
    this.stdin.off('close', this.onEnd);
    this.stdin.off('error', this.onInputError);
    this.stdin.pause();
    this.chunks = [];
    this.resolveClosed();
    this.onclose?.();
    return Promise.resolve();
  }

  private write(text: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(text)) {
        resolve();
        return;
      }
      // A host that went away (EPIPE) is reported through onOutputError; nothing more to send then.
      const done = (): void => {
        this.stdout.off('drain', done);
        this.stdout.off('error', done);
        resolve();
      };
      this.stdout.once('drain', done);
      this.stdout.once('error', done);
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      const tail = chunk.subarray(start, newline);
      start = newline + 1;
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      const line = this.chunks.length === 0 ? tail : Buffer.concat([...this.chunks, tail]);
      this.chunks = [];
      this.size = 0;
      if (line.length > this.maxLineBytes) this.refuseLong();
      else this.onLine(line);
      if (this.isClosed) return;
    }
    if (start >= chunk.length || this.skipping) return;
    const rest = chunk.subarray(start);
    this.size += rest.length;
    if (this.size > this.maxLineBytes) {
      // Refused as soon as it is too long: holding the rest of it would let one line take any amount of memory.
      this.chunks = [];
      this.size = 0;
      this.skipping = true;
      this.refuseLong();
      return;
    }
    this.chunks.push(rest);
  };

  private refuseLong(): void {
    const mib = Math.round(this.maxLineBytes / (1024 * 1024));
    this.report(`refused a message longer than ${String(mib)} MiB`);
    // Its id was not read: JSON-RPC answers such a message with a null id.
    void this.write(errorLine(null, -32600, `Invalid Request: a message longer than ${String(mib)} MiB was refused unread. Send smaller messages; this connection stays open.`));
  }

  private onLine(raw: Buffer): void {
    const text = (raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, -1) : raw).toString('utf8');
    if (text.trim() === '') return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(text);
    } catch {
      this.refuseInvalid(text);
      return;
    }
    if (isJSONRPCRequest(message)) this.inFlight.add(message.id);
    else if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
      // A cancelled request is not answered: nothing to wait for at the end of input.
      const id = (message.params as { requestId?: unknown } | undefined)?.requestId;
      if (isId(id)) this.inFlight.delete(id);
    }
    this.onmessage?.(message);
  }

  /** A line that is not one JSON-RPC message: answered with the error JSON-RPC names for it. */
  private refuseInvalid(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.report('refused a line that is not JSON');
      void this.write(errorLine(null, -32700, 'Parse error: the line is not JSON. Send one JSON-RPC message per line.'));
      return;
    }
    if (Array.isArray(parsed)) {
      this.report('refused a JSON-RPC batch');
      const message = 'Invalid Request: JSON-RPC batches are not supported; send each request as its own line.';
      const ids = parsed.map((m: unknown) => (typeof m === 'object' && m !== null ? (m as { id?: unknown }).id : undefined)).filter(isId);
      // One error per request in the batch, as a batch answer; one error when no request in it can be named.
      const out = ids.length === 0 ? errorLine(null, -32600, message) : `${JSON.stringify(ids.map((id) => ({ jsonrpc: '2.0', id, error: { code: -32600, message } })))}\n`;
      void this.write(out);
      return;
    }
    const id = typeof parsed === 'object' && parsed !== null ? (parsed as { id?: unknown }).id : undefined;
    this.report('refused a message that is not valid JSON-RPC');
    void this.write(errorLine(isId(id) ? id : null, -32600, 'Invalid Request: not a valid JSON-RPC 2.0 message.'));
  }

  private report(text: string): void {
    this.options.warn?.(`stdin: ${text}`);
  }

  private readonly onEnd = (): void => {
    if (this.ended || this.isClosed) return;
    this.ended = true;
    if (this.inFlight.size === 0) {
      void this.close();
      return;
    }
    // Answers in flight are sent first; a call that outlasts its own timeout is not waited for.
    this.drainTimer = setTimeout(() => void this.close(), this.options.drainMs);
  };

  private readonly onInputError = (error: Error): void => {
    this.onerror?.(error);
  };

  private readonly onOutputError = (error: Error): void => {
    // The host closed our stdout: no answer can reach it any more.
    if (this.isClosed) return;
    this.onerror?.(error);
    void this.close();
  };
}
