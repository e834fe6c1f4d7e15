// The SDK's stdio transport with two changes. At the end of input the SDK closes at once and drops
// the answers still being made; here they are sent first (within a time limit), so a host or a
// script that writes its requests and closes stdin still reads every answer. And after a fast start
// (src/cli/launcher.ts) the requests the launcher answered are not answered twice.
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';

type Id = string | number;
type Handler = (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

export interface TransportOptions {
  /** Requests the launcher answered already; the server's answers to them are dropped. */
  answered?: Set<Id>;
  /** The launcher paused stdin after giving back what it had read: resume it once listening. */
  resume?: boolean;
  /** How long answers still being made may take after the end of input. */
  drainMs: number;
}

export class ServerTransport extends StdioServerTransport {
  private readonly inFlight = new Set<Id>();
  private readonly answered: Set<Id>;
  private inputEnded = false;
  private handler: Handler | undefined;

  constructor(private readonly options: TransportOptions) {
    super();
    this.answered = options.answered ?? new Set();
    // The SDK sets onmessage after construction; every request passing through is counted until answered.
    Object.defineProperty(this, 'onmessage', {
      configurable: true,
      get: () => this.handler,
      set: (handler: Handler | undefined) => {
        this.handler =
          handler === undefined
            ? undefined
            : (message, extra) => {
                this.track(message);
                handler(message, extra);
              };
      },
    });
  }

  override async start(): Promise<void> {
    // Replace the SDK's end-of-input handling (close at once) with: answer what is in flight, then close.
    // Only the listeners its start() adds are taken off; anyone else's stay.
    const stdin = process.stdin;
    const before = { end: new Set(stdin.listeners('end')), close: new Set(stdin.listeners('close')) };
    await super.start();
    for (const event of ['end', 'close'] as const) {
      for (const listener of stdin.listeners(event)) if (!before[event].has(listener)) stdin.off(event, listener as () => void);
    }
    const ended = (): void => {
      if (this.inputEnded) return;
      this.inputEnded = true;
      if (this.inFlight.size === 0) {
        void this.close();
        return;
      }
      setTimeout(() => void this.close(), this.options.drainMs).unref();
    };
    stdin.on('end', ended);
    stdin.on('close', ended);
    if (stdin.readableEnded) setImmediate(ended);
    if (this.options.resume === true) stdin.resume();
  }

  override send(message: JSONRPCMessage): Promise<void> {
    if (!('id' in message) || message.id === undefined || !('result' in message || 'error' in message)) return super.send(message);
    if (this.answered.delete(message.id)) return Promise.resolve();
    this.inFlight.delete(message.id);
    const sent = super.send(message);
    if (this.inputEnded && this.inFlight.size === 0) void sent.finally(() => this.close());
    return sent;
  }

  private track(message: JSONRPCMessage): void {
    if (!('method' in message)) return;
    if ('id' in message) {
      if (!this.answered.has(message.id)) this.inFlight.add(message.id);
      return;
    }
    // A cancelled request is not answered.
    const { method, params } = message as { method: string; params?: { requestId?: unknown } };
    const id = params?.requestId;
    if (method === 'notifications/cancelled' && (typeof id === 'string' || typeof id === 'number')) this.inFlight.delete(id);
  }
}
