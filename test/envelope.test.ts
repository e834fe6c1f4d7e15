// The scan that bounds an answer before it is parsed: it must count what JSON.parse would make.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, parseEnvelope, parseInSteps, readEnvelope, scanJson, STEPWISE_FROM } from '../src/proxmox/envelope.js';

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

describe('reading a long answer in steps', () => {
  // Pieces of a few characters, so that small texts take every path a 30 MB answer takes.
  const piece = fc.integer({ min: 1, max: 40 });

  it('makes what JSON.parse makes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.boolean(), piece, async (value, pretty, size) => {
        const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
        const read = await parseInSteps(text, limits, size);
        expect(read.ok && JSON.stringify(read.value)).toBe(JSON.stringify(JSON.parse(text)));
      }),
      { numRuns: 1000 },
    );
    const read = await parseInSteps('{"__proto__":{"polluted":1},"a":[1,2,3,4,5,6,7,8,9],"a":[]}', limits, 4);
    expect(read.ok && Object.hasOwn(read.value as object, '__proto__')).toBe(true);
    expect(read.ok && Object.getPrototypeOf(read.value)).toBe(Object.prototype);
    expect(read.ok && JSON.stringify(read.value)).toBe('{"__proto__":{"polluted":1},"a":[]}');
  });

  it('accepts a text exactly when JSON.parse does', async () => {
    const marks = fc.constantFrom(',', ']', '}', '[', '{', ':', ' ', '"', '1', '');
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.nat(), marks, piece, async (value, at, mark, size) => {
        const whole = JSON.stringify(value);
        const p = at % (whole.length + 1);
        // A character put in, or (with '') taken out.
        const text = whole.slice(0, p) + mark + whole.slice(p + (mark === '' ? 1 : 0));
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect((await parseInSteps(text, limits, size)).ok).toBe(valid);
      }),
      { numRuns: 3000 },
    );
    for (const text of ['[1,2,]', '[,1,2]', '{"a":1,}', '[1,2}', '{"a":[1,2,3]]', '[[1,2,3],[4,5,6] 7]', '{"a" "b":[1,2,3,4]}', '[1,2] x']) {
      expect(await parseInSteps(text, limits, 2)).toEqual({ ok: false, why: 'syntax' });
    }
  });

  it('keeps the value and depth limits, with the same refusals', async () => {
    expect(await parseInSteps('[1,2,3]', { maxValues: 3, maxDepth: 5 }, 2)).toEqual({ ok: false, why: 'values' });
    expect(await parseInSteps('[[[]]]', { maxValues: 10, maxDepth: 2 }, 2)).toEqual({ ok: false, why: 'depth' });
    const long = `{"data":[${'1,'.repeat(STEPWISE_FROM)}1],"total":"7"}`;
    expect(await readEnvelope(200, 'OK', long, { maxValues: 10, maxDepth: 5 })).toMatchObject({ ok: false, kind: 'too-many-values' });
    expect(await readEnvelope(200, 'OK', long)).toMatchObject({ ok: true, total: 7 });
    expect(await readEnvelope(200, 'OK', `${long}x`)).toMatchObject({ ok: false, kind: 'invalid-json', message: 'the answer was not valid JSON' });
  });

  it('answers other work between its steps', async () => {
    const long = `{"data":[${'{"vmid":1,"name":"a"},'.repeat(STEPWISE_FROM / 10)}1]}`;
    const order: string[] = [];
    const reading = readEnvelope(200, 'OK', long).then(() => order.push('answer'));
    // A timer due at once: JSON.parse in one step would finish the whole answer before it fires.
    setTimeout(() => order.push('timer'), 0);
    await reading;
    expect(order).toEqual(['timer', 'answer']);
  });
});
