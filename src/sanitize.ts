// Text written by Proxmox users (names, notes, log lines) is untrusted: it reaches a model or a
// terminal. Control, bidirectional and invisible characters go; secrets are redacted; then lengths are
// capped (in that order: a cap must never leave part of a secret behind).
import { REDACTED, isSecretField, redactText } from './secrets.js';

export { REDACTED, redactText };
export const isSecretKey = isSecretField;

// C0/C1 controls (tab and newline kept), BiDi embeddings/overrides/isolates, zero-width and other
// invisible format characters, and Unicode tag characters (used to hide instructions).
// eslint-disable-next-line no-control-regex, no-misleading-character-class -- these ranges are exactly what we strip
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB]|[\u{E0000}-\u{E007F}]|[\u{E0100}-\u{E01EF}]/gu;

const DEFAULT_STRING_CAP = 2000;
const KEY_CAP = 128;

// Most values are plain printable ASCII: one quick test spares them the full replacement.
const NOT_PLAIN = /[^\x20-\x7e\t\n]/;

/** Without control, bidirectional and invisible characters: safe to show on a terminal or to a model. */
export function stripUnsafe(value: string): string {
  return NOT_PLAIN.test(value) ? value.replace(UNSAFE, '') : value;
}

/** Stripped, redacted, then cut to `cap` characters. */
export function sanitizeText(value: string, cap = DEFAULT_STRING_CAP): string {
  return cut(redactText(stripUnsafe(value)), cap);
}

function cut(text: string, cap: number): string {
  return text.length > cap ? `${text.slice(0, cap)}… [${text.length - cap} more characters cut]` : text;
}

/** Sanitises every string and redacts every secret-named field, at any depth. */
export function cleanValue(value: unknown, cap = DEFAULT_STRING_CAP): unknown {
  if (typeof value === 'string') return sanitizeText(value, cap);
  if (Array.isArray(value)) return value.map((v) => cleanValue(v, cap));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const whole = redactText(stripUnsafe(k));
      const key = cut(whole, KEY_CAP);
      // Keys such as __proto__ from upstream JSON are data, never prototypes.
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
      // Judged by the whole name: a long name cut short could lose the word that marks it secret.
      out[key] = isSecretField(whole) && v !== null && v !== '' ? REDACTED : cleanValue(v, cap);
    }
    return out;
  }
  return value;
}
