// Text written by Proxmox users (names, notes, log lines) is untrusted: it reaches a model.
// Control, bidirectional and invisible characters go; lengths are capped; secrets are redacted.

// C0/C1 controls (tab and newline kept), BiDi embeddings/overrides/isolates, zero-width and other
// invisible format characters, and Unicode tag characters (used to hide instructions).
// eslint-disable-next-line no-control-regex, no-misleading-character-class -- these ranges are exactly what we strip
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB]|[\u{E0000}-\u{E007F}]|[\u{E0100}-\u{E01EF}]/gu;

export const DEFAULT_STRING_CAP = 2000;

// Most values are plain printable ASCII: one quick test spares them the full replacement.
const NOT_PLAIN = /[^\x20-\x7e\t\n]/;

export function sanitizeText(value: string, cap = DEFAULT_STRING_CAP): string {
  let out = NOT_PLAIN.test(value) ? value.replace(UNSAFE, '') : value;
  if (out.length > cap) out = `${out.slice(0, cap)}… [${out.length - cap} more characters cut]`;
  return out;
}

// Field names that carry a secret, wherever they appear in an answer.
const SECRET_KEY = /(^|[-_])(pass(word|wd)?|secret|token[-_]?value|private[-_]?key|api[-_]?key)$|^(key|serverid|token|cipassword|sshkey_private)$/i;
// `password=...` or `secret: ...` inside free text (notes, descriptions, log lines).
const SECRET_IN_TEXT = /\b(password|passwd|pwd|secret|token|api[-_]?key)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;]+)/gi;

export const REDACTED = '[redacted]';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

// An API token header (`PVEAPIToken=user@realm!name=SECRET`) or a cookie ticket echoed into text.
const TOKEN_HEADER = /(PVEAPIToken[= ][^=\s]+=)[^\s"',;]+|(PVEAuthCookie=)[^\s"',;]+/g;

// Every word SECRET_IN_TEXT starts with begins with one of these.
const SECRET_WORD = /pass|pwd|secret|token|api/i;

export function redactText(value: string): string {
  const out = SECRET_WORD.test(value) ? value.replace(SECRET_IN_TEXT, `$1$2${REDACTED}`) : value;
  // Checked first: this runs on every string of every answer.
  return out.includes('PVEA') ? out.replace(TOKEN_HEADER, (_m, header?: string, cookie?: string) => `${header ?? cookie ?? ''}${REDACTED}`) : out;
}

/** Sanitises every string and redacts every secret-named field, at any depth. */
export function cleanValue(value: unknown, cap = DEFAULT_STRING_CAP): unknown {
  if (typeof value === 'string') return redactText(sanitizeText(value, cap));
  if (Array.isArray(value)) return value.map((v) => cleanValue(v, cap));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const key = sanitizeText(k, 128);
      // Keys such as __proto__ from upstream JSON are data, never prototypes.
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
      out[key] = isSecretKey(key) && v !== null && v !== '' ? REDACTED : cleanValue(v, cap);
    }
    return out;
  }
  return value;
}
