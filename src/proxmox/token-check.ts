// A token should only be able to look. The token's own privileges are read once at start-up: this
// names every one that could change something (power, modify, allocate, migrate, console...), and
// the catalogue uses the same answer to leave out what the token cannot use (src/tools/access.ts).
import type { ApiDescription } from './api/index.js';
import type { Upstream } from './client.js';
import { TokenPrivileges } from '../manifest/permissions.js';

export interface TokenCheck {
  ok: boolean;
  /** `path: Priv, Priv` for each path holding a privilege beyond auditing. */
  excess: string[];
  error?: string;
  /** What the token holds, when it could be read. */
  privileges?: TokenPrivileges;
}

export function excessPrivileges(privileges: TokenPrivileges, api: ApiDescription): string[] {
  const excess: string[] = [];
  for (const [path, privs] of privileges.entries()) {
    const bad = privs.filter((priv) => !api.readOnlyPrivilege.test(priv));
    if (bad.length > 0) excess.push(`${path}: ${bad.join(', ')}`);
  }
  return excess;
}

export async function checkTokenPrivileges(upstream: Upstream, timeoutMs: number, api: ApiDescription): Promise<TokenCheck> {
  const res = await upstream.read(api.permissionsPath, AbortSignal.timeout(timeoutMs));
  if (!res.ok) return { ok: false, excess: [], error: `${res.status || res.kind} ${res.message}` };
  const privileges = new TokenPrivileges(res.data, api.rowSpaces);
  const excess = excessPrivileges(privileges, api);
  return { ok: excess.length === 0, excess, privileges };
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
