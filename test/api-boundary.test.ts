// Everything particular to one Proxmox API lives in its description (src/proxmox/api/): adding a
// second API must not mean editing the runtime. This fails when a module outside it names the
// Proxmox VE token header or cookie, its default port, its schema files or the product itself.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { API_DESCRIPTIONS } from '../src/proxmox/api/index.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const OWN = [join(SRC, 'proxmox', 'api'), join(SRC, 'generated')];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (OWN.includes(path)) return [];
    return e.isDirectory() ? sources(path) : e.name.endsWith('.ts') ? [path] : [];
  });
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('API descriptions', () => {
  it('are the only modules under src/ that name an API\'s header, cookie, port, schema files or product', () => {
    const words = API_DESCRIPTIONS.flatMap((api) => [api.auth.scheme, api.auth.cookie, api.product, api.specFile.split('/').pop() ?? '', api.lockFile.split('/').pop() ?? '', api.apidocPath]);
    const named = new RegExp(`${words.map(escape).join('|')}|\\b(${API_DESCRIPTIONS.map((a) => a.defaultPort).join('|')})\\b`);
    // The check itself must see what it is looking for.
    expect(named.test("'PVEAPIToken=' 8006 proxmox-ve.openapi.json Proxmox VE")).toBe(true);
    const offenders = sources(SRC).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (named.test(line) ? [`${relative(SRC, file)}:${String(i + 1)}: ${line.trim()}`] : [])),
    );
    expect(offenders).toEqual([]);
  });
});
