// A token should only be able to look. This reads the token's own privileges and names every one
// that could change something (power, modify, allocate, migrate, console...).
import type { ApiDescription } from './api/index.js';
import type { Upstream } from './client.js';

export interface TokenCheck {
  ok: boolean;
  /** `path: Priv, Priv` for each path holding a privilege beyond auditing. */
  excess: string[];
  error?: string;
}

export async function checkTokenPrivileges(upstream: Upstream, timeoutMs: number, api: ApiDescription): Promise<TokenCheck> {
  const res = await upstream.read(api.permissionsPath, AbortSignal.timeout(timeoutMs));
  if (!res.ok) return { ok: false, excess: [], error: `${res.status || res.kind} ${res.message}` };
  const excess: string[] = [];
  if (typeof res.data === 'object' && res.data !== null) {
    for (const [path, privs] of Object.entries(res.data).sort(([a], [b]) => a.localeCompare(b))) {
      if (typeof privs !== 'object' || privs === null) continue;
      const bad = Object.entries(privs as Record<string, unknown>)
        .filter(([priv, granted]) => granted !== 0 && granted !== '0' && !api.readOnlyPrivilege.test(priv))
        .map(([priv]) => priv)
        .sort();
      if (bad.length > 0) excess.push(`${path}: ${bad.join(', ')}`);
    }
  }
  return { ok: excess.length === 0, excess };
}

export function describeExcess(tokenId: string, excess: string[], api: ApiDescription): string {
  return (
    `the token ${tokenId} holds privileges beyond read-only auditing: ${excess.join('; ')}. ` +
    `This server never uses them, but a read-only token is the last line of defence: create a token with privilege separation and grant it only ${api.readOnlyGrant} (see README, "Create a read-only token").`
  );
}

/**
 * What a check means at start-up: a reason to refuse (only with the strict setting), a warning, or
 * nothing. The same for every transport.
 */
export function judgeTokenCheck(check: TokenCheck, tokenId: string, strict: boolean, api: ApiDescription): { refuse?: string; warn?: string } {
  if (check.error !== undefined) {
    const message = `could not read the token's privileges (${check.error})`;
    return strict ? { refuse: `${message}; PROXMOX_REQUIRE_READONLY_TOKEN=true refuses to start without that check` } : { warn: message };
  }
  if (!check.ok) {
    const message = describeExcess(tokenId, check.excess, api);
    return strict ? { refuse: `refusing to start (PROXMOX_REQUIRE_READONLY_TOKEN=true): ${message}` } : { warn: message };
  }
  return {};
}
