// Every rule about secrets, in one place: the token header and cookie of each Proxmox API, the
// secrets this process knows (the token secret), secret-named fields and `password=...` in free text.
// The logger, error messages and answers all redact through here, always on values (a string, or a
// parsed JSON value walked key by key), never on raw JSON text: a pattern applied to JSON text can eat
// an escape and break the document.
import { API_DESCRIPTIONS, type ApiDescription } from './proxmox/api/index.js';

export const REDACTED = '[redacted]';

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// The token header of any known API (scheme=user@realm!name, the separator, the secret) or its
// session cookie, echoed into text.
const HEADER_WORDS = API_DESCRIPTIONS.flatMap((a) => [a.auth.scheme, a.auth.cookie]);
const HEADER_HINT = new RegExp(HEADER_WORDS.map(escapeRegExp).join('|'));
const HEADER = new RegExp(
  API_DESCRIPTIONS.flatMap((a) => {
    const sep = escapeRegExp(a.auth.secretSeparator);
    return [`(${escapeRegExp(a.auth.scheme)}[= ][^${sep}\\s]+${sep})[^\\s"',;]+`, `(${escapeRegExp(a.auth.cookie)}=)[^\\s"',;]+`];
  }).join('|'),
  'g',
);
// Each API adds two capturing groups (the header's prefix, the cookie's name).
const HEADER_GROUPS = API_DESCRIPTIONS.length * 2;

// `password=...` or `secret: ...` inside free text (notes, descriptions, log lines).
const SECRET_IN_TEXT = /\b(password|passwd|pwd|secret|token|api[-_]?key)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;]+)/gi;
// Every word SECRET_IN_TEXT starts with begins with one of these: a quick test spares most strings.
const SECRET_WORD = /pass|pwd|secret|token|api/i;

// Field names that carry a secret, wherever they appear in an answer.
const SECRET_FIELD = /(^|[-_])(pass(word|wd)?|secret|token[-_]?value|private[-_]?key|api[-_]?key)$|^(key|token)$/i;
const PRODUCT_FIELDS: readonly RegExp[] = API_DESCRIPTIONS.map((a) => a.secretFields);

// Shorter values are not treated as secrets (they would redact ordinary words).
const MIN_KNOWN_SECRET = 8;
const known = new Set<string>();

/**
 * A value this process holds that must never be written anywhere (the token secret). Known for the
 * life of the process: every redaction after this call cuts it out, wherever it appears.
 */
/**
 * What is wrong with a token secret as configured, in words that never echo it; undefined when it can
 * be one. A secret shorter than MIN_KNOWN_SECRET could not be redacted, so it is refused.
 */
export function tokenSecretProblem(value: string): string | undefined {
  if (!/^[\x21-\x7e]{1,256}$/.test(value)) return 'holds characters a token secret cannot have (whitespace or control characters)';
  if (value.length < MIN_KNOWN_SECRET) return `is too short to be a token secret (under ${MIN_KNOWN_SECRET} characters; Proxmox makes them 36 long): copy the whole secret`;
  return undefined;
}

export function registerSecret(value: string): void {
  if (value.length >= MIN_KNOWN_SECRET) known.add(value);
}

export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name) || PRODUCT_FIELDS.some((re) => re.test(name));
}

/** The text with every secret this module recognises replaced by `[redacted]`. */
export function redactText(value: string): string {
  let out = value;
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  if (SECRET_WORD.test(out)) out = out.replace(SECRET_IN_TEXT, `$1$2${REDACTED}`);
  if (HEADER_HINT.test(out)) out = out.replace(HEADER, (_match: string, ...groups: unknown[]) => `${groups.slice(0, HEADER_GROUPS).find((g) => typeof g === 'string') ?? ''}${REDACTED}`);
  return out;
}

/**
 * A parsed JSON value with every string redacted and every secret-named field's value replaced,
 * at any depth. Returns the same object when nothing changed, so callers can tell cheaply.
 */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const r = redactValue(v);
      if (r !== v) (out ??= value.slice())[i] = r;
    });
    return out ?? value;
  }
  if (typeof value === 'object' && value !== null) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const key = redactText(k);
      // Keys such as __proto__ are data, never prototypes.
      if (key === '__proto__') {
        changed = true;
        continue;
      }
      const r = isSecretField(key) && v !== null && v !== '' ? REDACTED : redactValue(v);
      if (key !== k || r !== v) changed = true;
      out[key] = r;
    }
    return changed ? out : value;
  }
  return value;
}

/**
 * Why a token ID cannot be used, in words that do not repeat it (it may hold the secret), or
 * undefined when it is well formed. A common paste mistake is the whole header, or `ID=SECRET`.
 */
export function tokenIdProblem(tokenId: string, api: ApiDescription): string | undefined {
  if (api.tokenId.pattern.test(tokenId)) return undefined;
  const example = api.tokenId.example;
  if (HEADER_HINT.test(tokenId)) {
    return `holds a whole Authorization header; put only the token ID (for example ${example}) here and the secret in PROXMOX_TOKEN_SECRET`;
  }
  if (/[=:]/.test(tokenId)) {
    return `holds the secret after the token ID; put only the token ID (for example ${example}) here and the secret in PROXMOX_TOKEN_SECRET`;
  }
  const missing = !tokenId.includes('@') ? 'has no "@REALM"' : !tokenId.includes('!') ? 'has no "!TOKENNAME"' : 'has characters a token ID cannot have';
  // Not echoed: a secret pasted into the wrong variable would be printed.
  return `must look like USER@REALM!TOKENNAME, for example ${example} (the value given ${missing})`;
}
