// The header list used in place of Node's Headers: the behaviour openapi-fetch and the guard rely on.
import { describe, expect, it } from 'vitest';
import { PlainHeaders } from '../src/proxmox/plain-headers.js';

describe('PlainHeaders', () => {
  it('matches names without regard to case, and keeps them lower-case', () => {
    const h = new PlainHeaders({ Accept: 'application/json' });
    expect(h.get('accept')).toBe('application/json');
    expect(h.has('ACCEPT')).toBe(true);
    expect(h.get('content-length')).toBeNull();
    h.set('Authorization', 'PVEAPIToken=a@pve!b=s');
    expect([...h]).toEqual([
      ['accept', 'application/json'],
      ['authorization', 'PVEAPIToken=a@pve!b=s'],
    ]);
  });

  it('appends repeated names as one comma-joined value, and sets over them', () => {
    const h = new PlainHeaders([
      ['Vary', 'a'],
      ['vary', 'b'],
    ]);
    expect(h.get('vary')).toBe('a, b');
    h.append('VARY', 'c');
    expect(h.get('vary')).toBe('a, b, c');
    h.set('vary', 'd');
    expect(h.get('vary')).toBe('d');
    h.delete('Vary');
    expect(h.has('vary')).toBe(false);
  });

  it('takes another header list, Node headers included, and record values that are lists', () => {
    const copy = new PlainHeaders(new PlainHeaders({ a: '1' }));
    expect(copy.get('a')).toBe('1');
    expect(new PlainHeaders(new Headers({ b: '2' })).get('b')).toBe('2');
    expect(new PlainHeaders({ c: ['3', '4'], d: undefined }).get('c')).toBe('3, 4');
    const seen: string[] = [];
    new PlainHeaders({ x: '1', y: '2' }).forEach((v, k) => seen.push(`${k}=${v}`));
    expect(seen).toEqual(['x=1', 'y=2']);
  });

  it('refuses names that are not tokens and values that could inject a header', () => {
    expect(() => new PlainHeaders({ 'bad name': 'x' })).toThrow(TypeError);
    const h = new PlainHeaders();
    expect(() => {
      h.set('x-ok', 'a\r\nInjected: yes');
    }).toThrow(/CR, LF or NUL/);
    expect(() => {
      h.append('x-ok', 'a\nb');
    }).toThrow(TypeError);
    expect(() => {
      h.set('x-ok', 'a\u0000b');
    }).toThrow(TypeError);
    expect(h.has('x-ok')).toBe(false);
    // Surrounding whitespace is trimmed, as Node's Headers does.
    h.set('x-ok', '  v  ');
    expect(h.get('x-ok')).toBe('v');
  });

  it('keeps the headers of an answer as received: nothing a host sends makes reading it throw', () => {
    const h = PlainHeaders.received({ 'Content-Length': '12', 'set-cookie': ['a=1', 'b=2'], 'x-odd name': 'v\u0000', gone: undefined });
    expect(h.get('content-length')).toBe('12');
    expect(h.get('set-cookie')).toBe('a=1, b=2');
    expect([...h.keys()]).toEqual(['content-length', 'set-cookie', 'x-odd name']);
  });
});
