// A header list for the server's own requests and answers: what openapi-fetch, the request guard and
// the sender read and write. Node's WHATWG `Headers` (like `Request` and `Response`) lives in Node's
// built-in copy of undici, a second one beside the undici that sends our requests: touching it costs
// about 8.5 MB and 20 ms, for a map of a handful of names. The build puts this class in the server
// bundle wherever the global `Headers` is named (scripts/build.ts), and a test checks that a running
// server never loads Node's copy.

// RFC 9110 token characters for names; values may not hold CR, LF or NUL (header injection).
const NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\r\n\u0000]/;

type Init = Iterable<readonly [string, string]> | Record<string, string | readonly string[] | undefined> | null | undefined;

export class PlainHeaders implements Iterable<[string, string]> {
  private readonly map = new Map<string, string>();

  constructor(init?: Init) {
    if (init === null || init === undefined) return;
    if (Symbol.iterator in init) {
      for (const [name, value] of init as Iterable<readonly [string, string]>) this.append(name, value);
      return;
    }
    for (const [name, value] of Object.entries(init)) {
      if (value === undefined) continue;
      if (typeof value === 'string') this.append(name, value);
      else for (const one of value) this.append(name, one);
    }
  }

  /**
   * The headers of an answer, as undici hands them over (already parsed by its HTTP parser): stored
   * as they are, so that nothing a host sends makes reading its answer throw.
   */
  static received(headers: Record<string, string | string[] | undefined>): PlainHeaders {
    const out = new PlainHeaders();
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) out.map.set(name.toLowerCase(), typeof value === 'string' ? value : value.join(', '));
    }
    return out;
  }

  private static key(name: string): string {
    if (!NAME.test(name)) throw new TypeError(`invalid header name: ${JSON.stringify(name)}`);
    return name.toLowerCase();
  }

  // Coerced as Node's Headers does: callers outside TypeScript may pass numbers.
  private static clean(value: string | number): string {
    const text = String(value).trim();
    if (BAD_VALUE.test(text)) throw new TypeError('invalid header value: it holds CR, LF or NUL');
    return text;
  }

  get(name: string): string | null {
    return this.map.get(PlainHeaders.key(name)) ?? null;
  }

  has(name: string): boolean {
    return this.map.has(PlainHeaders.key(name));
  }

  set(name: string, value: string | number): void {
    this.map.set(PlainHeaders.key(name), PlainHeaders.clean(value));
  }

  append(name: string, value: string | number): void {
    const key = PlainHeaders.key(name);
    const text = PlainHeaders.clean(value);
    const before = this.map.get(key);
    this.map.set(key, before === undefined ? text : `${before}, ${text}`);
  }

  delete(name: string): void {
    this.map.delete(PlainHeaders.key(name));
  }

  forEach(callback: (value: string, name: string, headers: PlainHeaders) => void): void {
    for (const [name, value] of this.map) callback(value, name, this);
  }

  entries(): IterableIterator<[string, string]> {
    return this.map.entries();
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  values(): IterableIterator<string> {
    return this.map.values();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.map.entries();
  }
}
