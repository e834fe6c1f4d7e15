// The scan that bounds an answer before it is parsed: it must count what JSON.parse would make.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, parseEnvelope, scanJson } from '../src/proxmox/envelope.js';

/** The values JSON.parse makes of a text, keys included, counted by walking what it made. */
function countParsed(v: unknown): number {
  if (Array.isArray(v)) return 1 + v.reduce((n: number, x) => n + countParsed(x), 0);
  if (typeof v === 'object' && v !== null) return 1 + Object.entries(v).reduce((n, [, x]) => n + 1 + countParsed(x), 0);
  return 1;
}

const limits = { maxValues: 1e9, maxDepth: 1e9 };

describe('scanning an answer before it is parsed', () => {
  it('counts exactly the values JSON.parse makes, whatever the strings hold', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
        expect(scanJson(text, limits)).toEqual({ ok: true, values: countParsed(JSON.parse(text)) });
      }),
      { numRuns: 500 },
    );
    expect(scanJson(String.raw`{"a\"]}[{":"\\","b":["\\\"",-1.5e3,true,null]}`, limits)).toEqual({ ok: true, values: 9 });
  });

  it('stops at the value limit and at the depth limit', () => {
    expect(scanJson('[1,2,3]', { maxValues: 3, maxDepth: 5 })).toEqual({ ok: false, why: 'values' });
    expect(scanJson('[1,2]', { maxValues: 3, maxDepth: 5 })).toEqual({ ok: true, values: 3 });
    expect(scanJson('[[[]]]', { maxValues: 10, maxDepth: 2 })).toEqual({ ok: false, why: 'depth' });
    expect(scanJson('[[],[],[]]', { maxValues: 10, maxDepth: 2 })).toEqual({ ok: true, values: 4 });
  });

  it('turns an answer too deep into an unreadable answer, and too many values into a refusal', () => {
    const deep = `{"data":${'['.repeat(MAX_DEPTH + 1)}${']'.repeat(MAX_DEPTH + 1)}}`;
    expect(parseEnvelope(200, 'OK', deep)).toMatchObject({ ok: false, kind: 'invalid-json', message: expect.stringMatching(/nested more than/) as unknown });
    expect(parseEnvelope(500, 'Internal', deep)).toMatchObject({ ok: false, kind: 'invalid-json' });
    expect(parseEnvelope(200, 'OK', '{"data":[1,2,3]}', { maxValues: 3, maxDepth: 5 })).toMatchObject({ ok: false, kind: 'too-many-values' });
    expect(parseEnvelope(200, 'OK', '{"data":[1,2,3],"total":"3"}')).toEqual({ ok: true, data: [1, 2, 3], total: 3 });
  });
});
