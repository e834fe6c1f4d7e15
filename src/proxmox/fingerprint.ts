// The one reading of a certificate fingerprint, for configuration, the TLS agent and spec:pull.

/** How a fingerprint is written, for error messages. */
export const FINGERPRINT_FORM = 'a SHA-256 fingerprint: 32 hex byte pairs such as "AB:CD:...:EF", as shown under Node > System > Certificates';

/** `AA:BB:...`, `aabb...` or `sha256/AA:BB...` as 64 lowercase hex digits; undefined when it is not one. */
export function parseFingerprint(input: string): string | undefined {
  const hex = input.trim().replace(/^sha-?256[:/ ]?/i, '').replace(/[:\s]/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}
