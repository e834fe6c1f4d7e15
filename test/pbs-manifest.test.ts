// The Proxmox Backup Server manifest: compiled against its own pin and deny-list, never Proxmox VE's;
// the deny-list covers what must never be read, and every entry names something the API has.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileManifest, compileManifestFor, ManifestError } from '../src/manifest/compile.js';
import { deniedReason } from '../src/proxmox/api/index.js';
import { pbs } from '../src/proxmox/api/pbs.js';
import { PBS_DENIED_PATHS } from '../src/proxmox/api/pbs-deny-list.js';
import prebuilt from '../src/generated/manifest-pbs.json' with { type: 'json' };

const read = (file: string): string => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
const pbsSpec = JSON.parse(read('spec/proxmox-backup.openapi.json')) as { paths: Record<string, unknown> };
const pveSpec: unknown = JSON.parse(read('spec/proxmox-ve.openapi.json'));

function tool(path: string, params = ''): string {
  return `version: 1\ntools:\n  - name: pbs_one\n    title: One\n    description: A test tool that reads one thing from the backup server.\n    toolset: backup\n    privilege: Datastore.Audit\n    path: ${path}\n${params}`;
}

function problems(yaml: string, spec: unknown = pbsSpec): string[] {
  try {
    compileManifest(yaml, spec, pbs);
  } catch (error) {
    if (error instanceof ManifestError) return error.problems;
    throw error;
  }
  return [];
}

describe('tools-pbs.yaml', () => {
  it('compiles against the PBS pin into the committed manifest, every tool pbs_-prefixed and read-only', () => {
    const m = compileManifestFor(read('tools-pbs.yaml'), pbsSpec, 'pbs');
    expect(JSON.parse(JSON.stringify(m))).toEqual(prebuilt);
    expect(m.tools.length).toBeGreaterThanOrEqual(16);
    for (const t of m.tools) {
      expect(t.name).toMatch(/^pbs_/);
      expect(t.annotations).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
      expect(deniedReason(t.path, pbs)).toBeUndefined();
    }
  });

  it('does not compile against the Proxmox VE pin, and says which pin it checked', () => {
    expect(() => compileManifestFor(read('tools-pbs.yaml'), pveSpec, 'pve')).toThrow(/tools\.yaml has \d+ problem/);
    expect(() => compileManifestFor(read('tools-pbs.yaml'), pveSpec, 'pve')).toThrow(/not a GET operation in the pinned Proxmox VE API \(spec\/proxmox-ve\.openapi\.json\)/);
  });

  it('never shows a snapshot file list or an archive: file lists are omitted', () => {
    const m = compileManifestFor(read('tools-pbs.yaml'), pbsSpec, 'pbs');
    for (const name of ['pbs_list_snapshots', 'pbs_list_groups']) expect(m.tools.find((t) => t.name === name)?.output.omit).toContain('files');
  });
});

describe('the PBS deny-list', () => {
  it('refuses downloads, catalogs, the backup and reader protocols, terminals, keys, tokens, TFA and notification secrets', () => {
    const refused = [
      '/admin/datastore/{store}/download',
      '/admin/datastore/{store}/download-decoded',
      '/admin/datastore/{store}/pxar-file-download',
      '/admin/datastore/{store}/catalog',
      '/admin/datastore/{store}/files',
      '/backup',
      '/backup/_upgrade_',
      '/reader/_upgrade_/chunk',
      '/nodes/{node}/vncwebsocket',
      '/nodes/{node}/termproxy',
      '/config/encryption-keys',
      '/config/tape-encryption-keys/{fingerprint}',
      '/access/users/{userid}/token',
      '/access/users/{userid}/token/{token-name}',
      '/access/tfa/{userid}',
      '/config/access/tfa/webauthn',
      '/config/notifications/endpoints/smtp/{name}',
      '/tape/media/destroy',
      '/config/remote/{name}/scan/{store}/groups',
      '/nodes/{node}/subscription',
    ];
    for (const path of refused) expect(deniedReason(path, pbs), path).toBeDefined();
    for (const path of refused.filter((p) => p !== '/nodes/{node}/termproxy')) expect(pbsSpec.paths, path).toHaveProperty([path]);
    const m = problems(tool('/admin/datastore/{store}/download', '    params:\n      store: {}\n'));
    expect(m).toContainEqual(expect.stringMatching(/tools-pbs\.yaml:\d+: tool "pbs_one": path: \/admin\/datastore\/\{store\}\/download is refused: it downloads backup archives/));
  });

  it('has no entry that matches nothing in the pin (each names a real endpoint)', () => {
    const paths = Object.keys(pbsSpec.paths);
    for (const d of PBS_DENIED_PATHS) expect(paths.some((p) => d.pattern.test(p)), String(d.pattern)).toBe(true);
  });

  it('leaves the endpoints of the tools and plain status reads alone', () => {
    for (const path of ['/status/datastore-usage', '/admin/datastore/{store}/snapshots', '/admin/gc', '/nodes/{node}/tasks/{upid}/log', '/config/remote', '/version']) {
      expect(deniedReason(path, pbs), path).toBeUndefined();
    }
  });
});
