// Numbers sent to Proxmox stay exact and are written as digits: every whole-number argument is
// bounded, and a page may start no further than MAX_OFFSET.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { compileManifest, MAX_OFFSET } from '../src/manifest/compile.js';

const spec: unknown = JSON.parse(readFileSync(new URL('../spec/proxmox-ve.openapi.json', import.meta.url), 'utf8'));
const manifest = compileManifest(readFileSync(new URL('../tools.yaml', import.meta.url), 'utf8'), spec);
const ajv = new Ajv2020({ strict: false });

describe('number bounds', () => {
  it('refuses an offset of 1e21 (sent as start=1e+21) and any offset past MAX_OFFSET, for every tool that pages', () => {
    const paging = manifest.tools.filter((t) => 'offset' in (t.argumentSchema.properties as object));
    expect(paging.some((t) => t.params.some((p) => p.arg === 'offset' && p.upstream === 'start'))).toBe(true);
    for (const t of paging) {
      const check = ajv.compile({ type: 'object', properties: { offset: (t.argumentSchema.properties as Record<string, object>).offset } });
      expect(check({ offset: 1e21 }), t.name).toBe(false);
      expect(check({ offset: MAX_OFFSET + 1 }), t.name).toBe(false);
      expect(check({ offset: MAX_OFFSET }), t.name).toBe(true);
    }
  });

  it('bounds every whole number a tool sends to Proxmox to where it prints as digits', () => {
    for (const t of manifest.tools) {
      for (const p of t.params.filter((x) => x.in !== 'filter')) {
        const schema = (t.argumentSchema.properties as Record<string, { type?: unknown; maximum?: number; minimum?: number }>)[p.arg];
        if (schema?.type !== 'integer') continue;
        expect(schema.maximum, `${t.name}.${p.arg}`).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
        expect(schema.minimum, `${t.name}.${p.arg}`).toBeGreaterThanOrEqual(Number.MIN_SAFE_INTEGER);
        expect(String(schema.maximum)).toMatch(/^\d+$/);
      }
    }
  });
});
