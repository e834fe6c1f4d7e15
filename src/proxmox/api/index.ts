// The Proxmox APIs this server can speak to. Adding one means adding its description here, with a
// schema pin and a manifest.
import { pbs } from './pbs.js';
import { pve } from './pve.js';
import type { ApiDescription, DeniedPath } from './types.js';

export type { ApiAuth, ApiDescription, DeniedPath, FailureContext, FailureHint } from './types.js';

export const API_DESCRIPTIONS: readonly ApiDescription[] = [pve, pbs];

/** The API with this id (`pve`, `pbs`), or undefined. */
export function apiById(id: string): ApiDescription | undefined {
  return API_DESCRIPTIONS.find((api) => api.id === id);
}

/** The API PROXMOX_SERVICE names (`PVE`, any case), or undefined. */
export function apiForService(service: string): ApiDescription | undefined {
  const wanted = service.trim().toUpperCase();
  return API_DESCRIPTIONS.find((api) => api.service.toUpperCase() === wanted);
}

/** The API a manifest is compiled against when none is named. */
export const DEFAULT_API: ApiDescription = pve;

/** Why `path` may never become a tool of `api`, or undefined when it may. */
export function deniedReason(path: string, api: ApiDescription = DEFAULT_API): string | undefined {
  return api.deniedPaths.find((d: DeniedPath) => d.pattern.test(path))?.reason;
}

/** The Authorization header value for an API token. */
export function authorization(api: ApiDescription, tokenId: string, secret: string): string {
  return `${api.auth.scheme}=${tokenId}${api.auth.secretSeparator}${secret}`;
}
