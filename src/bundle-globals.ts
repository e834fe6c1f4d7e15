// Injected into the server bundle by scripts/build.ts: wherever bundled code names the global
// `Headers` (openapi-fetch merges request headers with it), it gets PlainHeaders instead, so that the
// server never loads Node's built-in fetch (src/proxmox/plain-headers.ts says why).
export { PlainHeaders as Headers } from './proxmox/plain-headers.js';
