// Translates the regular expressions in Proxmox API schemas into ECMAScript source (`u` flag), the
// dialect JSON Schema's `pattern` speaks. Two source dialects:
//
// - `perl` (Proxmox VE): the value is checked with `m/^$pattern$/`, Perl semantics, no flags. The
//   translation is anchored: `^(?:...)$`.
// - `rust` (Proxmox Backup Server, the `regex` crate): the pattern carries its own anchors and the
//   value is checked with `is_match`, a search, which is what JSON Schema's `pattern` does too; the
//   translation is not anchored again.
//
// A translation is either faithful (same language of strings, up to the notes below) or refused with
// a reason; a refused pattern is dropped by the converter, never emitted half-translated.
//
// Deliberate differences, all on the strict side:
// - Perl: `\d`, `\w`, `\s` and POSIX classes keep ECMAScript's ASCII meaning; Perl widens them to
//   Unicode for character strings. Proxmox identifiers are ASCII, so only exotic input is refused.
//   A negated POSIX class would widen instead, so it is refused.
// - Perl: the final `$` also accepts one trailing newline; its textual `^A|B$` leaves a top-level
//   alternation half-anchored. Both are refused here by the outer anchoring.
// - Rust: `\d`, `\w` and `\s` are Unicode classes and are written as such (`\p{Nd}`, ...); POSIX
//   classes are ASCII in Rust, so a negated one is the exact complement. `\b` is Unicode-aware in
//   Rust and ASCII in ECMAScript: refused.

export type PatternDialect = 'perl' | 'rust';

export type PatternTranslation = { ok: true; pattern: string } | { ok: false; reason: string };

type Item = { kind: 'char'; cp: number } | { kind: 'range'; from: number; to: number } | { kind: 'raw'; text: string; caseClosed: boolean };

interface ClassNode {
  type: 'class';
  negated: boolean;
  items: Item[];
}

type Node =
  | { type: 'lit'; cp: number }
  | ClassNode
  | { type: 'escape'; text: string } // class escapes and assertions copied as is: \d \w \s \b ...
  | { type: 'dot'; dotAll: boolean }
  | { type: 'raw'; text: string } // a complete ECMAScript construct (anchors, \R, ...)
  | { type: 'group'; kind: GroupKind; name?: string; index?: number; body: Alternation }
  | { type: 'backref'; index?: number; name?: string }
  | { type: 'quant'; atom: Node; text: string; lazy: boolean; possessive: boolean };

type GroupKind = 'capture' | 'noncapture' | 'atomic' | 'ahead' | 'notahead' | 'behind' | 'notbehind';

interface Alternation {
  branches: Node[][];
}

interface Flags {
  i: boolean;
  s: boolean;
  /** Rust only: `^` and `$` match at line boundaries. */
  m: boolean;
}

class Refused extends Error {}

const SYNTAX_OUTSIDE = new Set('^$\\.*+?()[]{}|/'.split(''));
const SYNTAX_INSIDE = new Set('\\]-^['.split(''));

// Perl's \h and \v (vertical whitespace, not ECMAScript's \v = VT only).
const H_SPACE: Item[] = [
  { kind: 'char', cp: 0x09 },
  { kind: 'char', cp: 0x20 },
  { kind: 'char', cp: 0xa0 },
  { kind: 'char', cp: 0x1680 },
  { kind: 'char', cp: 0x180e },
  { kind: 'range', from: 0x2000, to: 0x200a },
  { kind: 'char', cp: 0x202f },
  { kind: 'char', cp: 0x205f },
  { kind: 'char', cp: 0x3000 },
];
const V_SPACE: Item[] = [
  { kind: 'range', from: 0x0a, to: 0x0d },
  { kind: 'char', cp: 0x85 },
  { kind: 'range', from: 0x2028, to: 0x2029 },
];

// ASCII meaning of the POSIX classes (see the note at the top).
const POSIX: Record<string, Item[]> = {
  alpha: [range('a', 'z'), range('A', 'Z')],
  digit: [range('0', '9')],
  alnum: [range('a', 'z'), range('A', 'Z'), range('0', '9')],
  upper: [range('A', 'Z')],
  lower: [range('a', 'z')],
  xdigit: [range('0', '9'), range('a', 'f'), range('A', 'F')],
  space: [{ kind: 'range', from: 0x09, to: 0x0d }, { kind: 'char', cp: 0x20 }],
  blank: [{ kind: 'char', cp: 0x09 }, { kind: 'char', cp: 0x20 }],
  cntrl: [{ kind: 'range', from: 0x00, to: 0x1f }, { kind: 'char', cp: 0x7f }],
  punct: [range('!', '/'), range(':', '@'), range('[', '`'), range('{', '~')],
  graph: [range('!', '~')],
  print: [range(' ', '~')],
  word: [range('0', '9'), range('A', 'Z'), range('a', 'z'), { kind: 'char', cp: 0x5f }],
};

// Rust's Unicode classes (regex crate, Unicode mode, the default), in ECMAScript's `u` syntax.
// White_Space is not ECMAScript's `\s` (which adds U+FEFF and leaves out U+0085): spelled out.
const RUST_SPACE: Item[] = [
  { kind: 'range', from: 0x09, to: 0x0d },
  { kind: 'char', cp: 0x20 },
  { kind: 'char', cp: 0x85 },
  { kind: 'char', cp: 0xa0 },
  { kind: 'char', cp: 0x1680 },
  { kind: 'range', from: 0x2000, to: 0x200a },
  { kind: 'range', from: 0x2028, to: 0x2029 },
  { kind: 'char', cp: 0x202f },
  { kind: 'char', cp: 0x205f },
  { kind: 'char', cp: 0x3000 },
];
const RUST_DIGIT = '\\p{Nd}';
const RUST_WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
const MAX_CP = 0x10ffff;

/** The code points the char and range items do not cover; undefined when a raw item is among them. */
function complement(items: Item[]): Item[] | undefined {
  const spans: [number, number][] = [];
  for (const item of items) {
    if (item.kind === 'raw') return undefined;
    spans.push(item.kind === 'char' ? [item.cp, item.cp] : [item.from, item.to]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  const out: Item[] = [];
  let next = 0;
  for (const [from, to] of spans) {
    if (from > next) out.push(from - 1 === next ? { kind: 'char', cp: next } : { kind: 'range', from: next, to: from - 1 });
    next = Math.max(next, to + 1);
  }
  if (next <= MAX_CP) out.push(next === MAX_CP ? { kind: 'char', cp: next } : { kind: 'range', from: next, to: MAX_CP });
  return out;
}

function range(from: string, to: string): Item {
  return { kind: 'range', from: from.codePointAt(0) ?? 0, to: to.codePointAt(0) ?? 0 };
}

class Parser {
  private pos = 0;
  private groupCount = 0;
  readonly names = new Set<string>();

  constructor(
    private readonly src: string,
    private readonly dialect: PatternDialect,
  ) {}

  private get rust(): boolean {
    return this.dialect === 'rust';
  }

  parse(): Alternation {
    const result = this.alternation({ i: false, s: false, m: false });
    if (this.pos < this.src.length) throw new Refused(`unbalanced ")" at ${this.pos}`);
    return result;
  }

  private peek(offset = 0): string {
    return this.src.charAt(this.pos + offset);
  }

  private alternation(flags: Flags): Alternation {
    const branches: Node[][] = [];
    // `(?i)` changes the flags for the rest of the enclosing group, across `|`.
    const current = { ...flags };
    let branch: Node[] = [];
    while (this.pos < this.src.length) {
      const c = this.peek();
      if (c === ')') break;
      if (c === '|') {
        this.pos++;
        branches.push(branch);
        branch = [];
        continue;
      }
      const atom = this.atom(current);
      if (atom === null) continue;
      branch.push(this.quantified(atom));
    }
    branches.push(branch);
    return { branches };
  }

  private quantified(atom: Node): Node {
    const c = this.peek();
    let text: string | undefined;
    if (c === '*' || c === '+' || c === '?') {
      text = c;
      this.pos++;
    } else if (c === '{') {
      const m = /^\{(\d*)(,?)(\d*)\}/.exec(this.src.slice(this.pos));
      if (m && (m[1] !== '' || (m[2] === ',' && m[3] !== ''))) {
        const min = m[1] === '' ? '0' : m[1];
        text = `{${min ?? '0'}${m[2] ?? ''}${m[3] ?? ''}}`;
        this.pos += m[0].length;
      }
    }
    if (text === undefined) return atom;
    let lazy = false;
    let possessive = false;
    if (this.peek() === '?') {
      lazy = true;
      this.pos++;
    } else if (this.peek() === '+') {
      if (this.rust) throw new Refused('possessive quantifier (not Rust syntax)');
      possessive = true;
      this.pos++;
    }
    const next = this.src.slice(this.pos);
    if (/^[*+?]/.test(next) || /^\{(?:\d+,?\d*|,\d+)\}/.test(next)) throw new Refused('nested quantifier');
    return { type: 'quant', atom, text, lazy, possessive };
  }

  private atom(flags: Flags): Node | null {
    const c = this.peek();
    this.pos++;
    switch (c) {
      case '(':
        return this.group(flags);
      case '[':
        return this.charClass(flags);
      case '.':
        return { type: 'dot', dotAll: flags.s };
      case '^':
        return { type: 'raw', text: flags.m ? '(?<=^|\\n)' : '^' };
      case '$':
        if (this.rust) return { type: 'raw', text: flags.m ? '(?=\\n|$)' : '$' };
        // Perl: end of string, or before a newline that ends it.
        return { type: 'raw', text: '(?=\\n?$)' };
      case '\\':
        return this.escape(flags);
      case '*':
      case '+':
      case '?':
        throw new Refused(`quantifier "${c}" without an operand`);
      default: {
        const cp = this.src.codePointAt(this.pos - 1) ?? 0;
        if (cp > 0xffff) this.pos++;
        return this.literal(cp, flags);
      }
    }
  }

  private literal(cp: number, flags: Flags): Node {
    if (flags.i && hasCase(cp)) {
      // Rust folds case by Unicode rules (k also matches U+212A): not spelled out here.
      if (this.rust) throw new Refused('case-insensitive Rust pattern');
      if (!isAsciiLetter(cp)) throw new Refused('case-insensitive non-ASCII letter');
      return { type: 'class', negated: false, items: caseClose([{ kind: 'char', cp }]) };
    }
    return { type: 'lit', cp };
  }

  private group(flags: Flags): Node | null {
    if (this.peek() === '*') throw new Refused('backtracking control verb');
    if (this.rust && this.peek() === '?' && /^\?(?:[=!>#]|<[=!])/.test(this.src.slice(this.pos))) {
      throw new Refused('lookaround or atomic group (not Rust syntax)');
    }
    if (this.peek() !== '?') {
      const index = ++this.groupCount;
      const body = this.alternation(flags);
      this.expect(')');
      return { type: 'group', kind: 'capture', index, body };
    }
    this.pos++;
    const c = this.peek();
    const rest = this.src.slice(this.pos);
    if (c === '#') {
      const end = this.src.indexOf(')', this.pos);
      if (end < 0) throw new Refused('unterminated comment');
      this.pos = end + 1;
      return null;
    }
    const simple: Record<string, GroupKind> = { ':': 'noncapture', '>': 'atomic', '=': 'ahead', '!': 'notahead' };
    if (c in simple) {
      this.pos++;
      return this.finishGroup(simple[c] ?? 'noncapture', flags);
    }
    if (rest.startsWith('<=') || rest.startsWith('<!')) {
      this.pos += 2;
      return this.finishGroup(rest.startsWith('<=') ? 'behind' : 'notbehind', flags);
    }
    const named = /^(?:P?<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)')/.exec(rest);
    if (named) {
      this.pos += named[0].length;
      const name = named[1] ?? named[2] ?? '';
      this.names.add(name);
      const index = ++this.groupCount;
      const body = this.alternation(flags);
      this.expect(')');
      return { type: 'group', kind: 'capture', name, index, body };
    }
    // Flag groups: (?^:...), (?^i:...), (?i-s:...), (?i)
    const flagMatch = /^(\^?)([a-z]*)(?:-([a-z]*))?([:)])/.exec(rest);
    if (flagMatch) {
      const reset = flagMatch[1] === '^';
      const on = flagMatch[2] ?? '';
      const off = flagMatch[3] ?? '';
      if (reset && this.rust) throw new Refused('"(?^" (not Rust syntax)');
      const next: Flags = reset ? { i: false, s: false, m: false } : { ...flags };
      for (const f of on) (this.rust ? applyRustFlag : applyFlag)(next, f, true);
      for (const f of off) (this.rust ? applyRustFlag : applyFlag)(next, f, false);
      this.pos += flagMatch[0].length;
      if (flagMatch[4] === ')') {
        // Applies to the rest of the enclosing group.
        flags.i = next.i;
        flags.s = next.s;
        flags.m = next.m;
        return null;
      }
      const body = this.alternation(next);
      this.expect(')');
      return { type: 'group', kind: 'noncapture', body };
    }
    throw new Refused(`unsupported group "(?${rest.slice(0, 2)}"`);
  }

  private finishGroup(kind: GroupKind, flags: Flags): Node {
    const body = this.alternation({ ...flags });
    this.expect(')');
    return { type: 'group', kind, body };
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) throw new Refused(`expected "${ch}" at ${this.pos}`);
    this.pos++;
  }

  /** Escapes that mean one character, shared by both contexts. Returns undefined if not one. */
  private charEscape(c: string): number | undefined {
    const simple: Record<string, number> = { n: 0x0a, t: 0x09, r: 0x0d, f: 0x0c, e: 0x1b, a: 0x07 };
    if (c in simple) return simple[c];
    if (c === 'x') {
      const braced = /^\{([0-9A-Fa-f]{1,6})\}/.exec(this.src.slice(this.pos));
      if (braced) {
        this.pos += braced[0].length;
        return parseInt(braced[1] ?? '0', 16);
      }
      const short = /^[0-9A-Fa-f]{0,2}/.exec(this.src.slice(this.pos));
      const digits = short?.[0] ?? '';
      this.pos += digits.length;
      return digits === '' ? 0 : parseInt(digits, 16);
    }
    if (c === '0') {
      const oct = /^[0-7]{0,2}/.exec(this.src.slice(this.pos))?.[0] ?? '';
      this.pos += oct.length;
      return parseInt(`0${oct}`, 8);
    }
    if (c === 'o') {
      const braced = /^\{([0-7]{1,7})\}/.exec(this.src.slice(this.pos));
      if (!braced) throw new Refused('bad \\o escape');
      this.pos += braced[0].length;
      return parseInt(braced[1] ?? '0', 8);
    }
    if (c === 'c') {
      const ch = this.peek();
      if (ch === '') throw new Refused('bad \\c escape');
      this.pos++;
      return (ch.toUpperCase().codePointAt(0) ?? 0) ^ 0x40;
    }
    if (c !== '' && !/[A-Za-z0-9]/.test(c)) return c.codePointAt(0);
    return undefined;
  }

  private escape(flags: Flags): Node {
    if (this.rust) return this.rustEscape(flags);
    const c = this.peek();
    this.pos++;
    if ('dwsDWS'.includes(c) && c !== '') return { type: 'escape', text: `\\${c}` };
    if (c === 'b' || c === 'B') return { type: 'escape', text: `\\${c}` };
    if (c === 'A') return { type: 'raw', text: '^' };
    if (c === 'z') return { type: 'raw', text: '$' };
    if (c === 'Z') return { type: 'raw', text: '(?=\\n?$)' };
    if (c === 'h' || c === 'H') return { type: 'class', negated: c === 'H', items: H_SPACE };
    if (c === 'v' || c === 'V') return { type: 'class', negated: c === 'V', items: V_SPACE };
    if (c === 'R') return { type: 'raw', text: '(?:\\r\\n|[\\n\\v\\f\\r\\u0085\\u2028\\u2029])' };
    if (c === 'N' && this.peek() !== '{') return { type: 'class', negated: true, items: [{ kind: 'char', cp: 0x0a }] };
    if (/[1-9]/.test(c)) {
      const digits = c + (/^\d*/.exec(this.src.slice(this.pos))?.[0] ?? '');
      if (digits.length > 1) throw new Refused('ambiguous \\NN escape');
      return { type: 'backref', index: Number(digits) };
    }
    if (c === 'g') {
      const m = /^(?:\{(\d+)\}|(\d+))/.exec(this.src.slice(this.pos));
      if (!m) throw new Refused('unsupported \\g reference');
      this.pos += m[0].length;
      return { type: 'backref', index: Number(m[1] ?? m[2]) };
    }
    if (c === 'k') {
      const m = /^(?:<(\w+)>|\{(\w+)\}|'(\w+)')/.exec(this.src.slice(this.pos));
      if (!m) throw new Refused('bad \\k reference');
      this.pos += m[0].length;
      return { type: 'backref', name: m[1] ?? m[2] ?? m[3] ?? '' };
    }
    const cp = this.charEscape(c);
    if (cp === undefined) throw new Refused(`unsupported escape "\\${c}"`);
    return this.literal(cp, flags);
  }

  /** Rust's escapes (regex crate syntax): Unicode classes, no backreferences, `\v` is one character. */
  private rustEscape(flags: Flags): Node {
    const c = this.peek();
    this.pos++;
    if (c === 'd') return { type: 'escape', text: RUST_DIGIT };
    if (c === 'D') return { type: 'escape', text: '\\P{Nd}' };
    if (c === 's' || c === 'S') return { type: 'class', negated: c === 'S', items: RUST_SPACE };
    if (c === 'w' || c === 'W') return { type: 'class', negated: c === 'W', items: [{ kind: 'raw', text: RUST_WORD, caseClosed: true }] };
    if (c === 'A') return { type: 'raw', text: '(?<![\\s\\S])' };
    if (c === 'z') return { type: 'raw', text: '(?![\\s\\S])' };
    const cp = this.rustCharEscape(c);
    if (cp === undefined) throw new Refused(`unsupported escape "\\${c}" in a Rust pattern`);
    return this.literal(cp, flags);
  }

  private rustCharEscape(c: string): number | undefined {
    const simple: Record<string, number> = { n: 0x0a, t: 0x09, r: 0x0d, f: 0x0c, a: 0x07, v: 0x0b };
    if (c in simple) return simple[c];
    const digits = { x: 2, u: 4, U: 8 }[c];
    if (digits !== undefined) {
      const rest = this.src.slice(this.pos);
      const m = /^\{([0-9A-Fa-f]{1,8})\}/.exec(rest) ?? new RegExp(`^[0-9A-Fa-f]{${digits}}`).exec(rest);
      if (!m) throw new Refused(`bad \\${c} escape`);
      this.pos += m[0].length;
      const cp = parseInt(m[1] ?? m[0], 16);
      if (cp > MAX_CP || (cp >= 0xd800 && cp <= 0xdfff)) throw new Refused(`\\${c} escape out of range`);
      return cp;
    }
    if (c !== '' && !/[A-Za-z0-9]/.test(c)) return c.codePointAt(0);
    return undefined;
  }

  private classAtom(): Item | Item[] {
    const c = this.peek();
    if (c === '[') {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos));
      if (posix) {
        const items = POSIX[posix[2] ?? ''];
        if (!items) throw new Refused(`unknown POSIX class "${posix[2] ?? ''}"`);
        this.pos += posix[0].length;
        if (posix[1] !== '^') return items;
        // Rust's POSIX classes are ASCII, so the negation is the exact complement; Perl's widen to Unicode.
        if (!this.rust) throw new Refused('negated POSIX class');
        return complement(items) ?? [];
      }
      if (this.rust) throw new Refused('nested character class');
    }
    if (this.rust && c === '\\') {
      this.pos++;
      const e = this.peek();
      this.pos++;
      if (e === 'd') return { kind: 'raw', text: RUST_DIGIT, caseClosed: true };
      if (e === 'D') return { kind: 'raw', text: '\\P{Nd}', caseClosed: true };
      if (e === 's') return RUST_SPACE;
      if (e === 'S') return complement(RUST_SPACE) ?? [];
      if (e === 'w') return { kind: 'raw', text: RUST_WORD, caseClosed: true };
      if (e === 'W') throw new Refused('"\\W" inside a class');
      const cp = this.rustCharEscape(e);
      if (cp === undefined) throw new Refused(`unsupported escape "\\${e}" inside a class`);
      return { kind: 'char', cp };
    }
    if (this.rust && /^(?:&&|--|~~)/.test(this.src.slice(this.pos))) throw new Refused('class set operation');
    if (c === '\\') {
      this.pos++;
      const e = this.peek();
      this.pos++;
      if ('dwsDWS'.includes(e) && e !== '') return { kind: 'raw', text: `\\${e}`, caseClosed: true };
      if (e === 'h') return H_SPACE;
      if (e === 'v') return V_SPACE;
      if (e === 'b') return { kind: 'char', cp: 0x08 };
      if (e === 'H' || e === 'V' || e === 'N' || e === 'R') throw new Refused(`"\\${e}" inside a class`);
      const cp = this.charEscape(e);
      if (cp === undefined) throw new Refused(`unsupported escape "\\${e}" inside a class`);
      return { kind: 'char', cp };
    }
    if (c === '') throw new Refused('unterminated character class');
    const cp = this.src.codePointAt(this.pos) ?? 0;
    this.pos += cp > 0xffff ? 2 : 1;
    return { kind: 'char', cp };
  }

  private charClass(flags: Flags): Node {
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    const items: Item[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === '') throw new Refused('unterminated character class');
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const start = this.classAtom();
      if (!Array.isArray(start) && start.kind === 'char' && this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '') {
        const save = this.pos;
        this.pos++;
        const end = this.classAtom();
        if (!Array.isArray(end) && end.kind === 'char') {
          if (end.cp < start.cp) throw new Refused('invalid range in class');
          items.push({ kind: 'range', from: start.cp, to: end.cp });
          continue;
        }
        // Perl reads `a-\d` as "a", "-", digits.
        this.pos = save + 1;
        items.push(start, { kind: 'char', cp: 0x2d });
        continue;
      }
      if (Array.isArray(start)) items.push(...start);
      else items.push(start);
    }
    let finalItems = items;
    if (flags.i) {
      for (const item of items) {
        if (item.kind === 'char' && hasCase(item.cp) && !isAsciiLetter(item.cp)) throw new Refused('case-insensitive non-ASCII letter');
        if (item.kind === 'range' && item.to > 0x7f && item.from <= 0xffff && rangeHasNonAsciiCase(item)) {
          throw new Refused('case-insensitive non-ASCII range');
        }
      }
      finalItems = caseClose(items);
    }
    return { type: 'class', negated, items: finalItems };
  }
}

function applyRustFlag(flags: Flags, f: string, on: boolean): void {
  if (f === 'i') flags.i = on;
  else if (f === 's') flags.s = on;
  else if (f === 'm') flags.m = on;
  // Unicode mode is the default; turning it off changes what the classes mean.
  else if (f === 'u' && on) return;
  else throw new Refused(`flag "${f}"`);
}

function applyFlag(flags: Flags, f: string, on: boolean): void {
  if (f === 'i') flags.i = on;
  else if (f === 's') flags.s = on;
  // `m`, `x` and `n` change how the rest reads; only their absence is faithful.
  else if ((f === 'm' || f === 'x' || f === 'n') && on) throw new Refused(`flag "${f}"`);
  else if (!['m', 'x', 'n', 'a', 'u', 'l', 'd', 'p'].includes(f)) throw new Refused(`flag "${f}"`);
  else if (['a', 'l'].includes(f) && on) throw new Refused(`flag "${f}"`);
}

function hasCase(cp: number): boolean {
  const ch = String.fromCodePoint(cp);
  return ch.toLowerCase() !== ch.toUpperCase();
}

function isAsciiLetter(cp: number): boolean {
  return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
}

function rangeHasNonAsciiCase(item: { from: number; to: number }): boolean {
  const lo = Math.max(item.from, 0x80);
  const hi = Math.min(item.to, 0x2fff);
  for (let cp = lo; cp <= hi; cp++) if (hasCase(cp)) return true;
  return item.to > 0x2fff;
}

/** Adds the other-case ASCII counterpart of every ASCII letter the items cover. */
function caseClose(items: Item[]): Item[] {
  const out = [...items];
  const add = (from: number, to: number, delta: number): void => {
    if (from <= to) out.push(from === to ? { kind: 'char', cp: from + delta } : { kind: 'range', from: from + delta, to: to + delta });
  };
  for (const item of items) {
    const [from, to] = item.kind === 'char' ? [item.cp, item.cp] : item.kind === 'range' ? [item.from, item.to] : [1, 0];
    add(Math.max(from, 0x61), Math.min(to, 0x7a), -0x20);
    add(Math.max(from, 0x41), Math.min(to, 0x5a), 0x20);
  }
  return out;
}

function renderChar(cp: number, syntax: Set<string>): string {
  const ch = String.fromCodePoint(cp);
  if (cp < 0x20 || cp > 0x7e) {
    return `\\u{${cp.toString(16).toUpperCase()}}`;
  }
  return syntax.has(ch) ? `\\${ch}` : ch;
}

function renderClass(node: ClassNode): string {
  const parts = node.items.map((item) => {
    if (item.kind === 'char') return renderChar(item.cp, SYNTAX_INSIDE);
    if (item.kind === 'range') return `${renderChar(item.from, SYNTAX_INSIDE)}-${renderChar(item.to, SYNTAX_INSIDE)}`;
    return item.text;
  });
  return `[${node.negated ? '^' : ''}${parts.join('')}]`;
}

class Renderer {
  private count = 0;
  private readonly map = new Map<number, number>();

  alternation(alt: Alternation): string {
    return alt.branches.map((b) => b.map((n) => this.node(n)).join('')).join('|');
  }

  private node(n: Node): string {
    switch (n.type) {
      case 'lit':
        return renderChar(n.cp, SYNTAX_OUTSIDE);
      case 'class':
        return renderClass(n);
      case 'escape':
      case 'raw':
        return n.text;
      case 'dot':
        return n.dotAll ? '[\\s\\S]' : '[^\\n]';
      case 'backref': {
        if (n.name !== undefined) return `\\k<${n.name}>`;
        const mapped = this.map.get(n.index ?? 0);
        if (mapped === undefined) throw new Refused('reference to a group not yet closed or absent');
        return `(?:\\${mapped})`;
      }
      case 'group':
        return this.group(n.kind, n.body, n.index, n.name);
      case 'quant': {
        const q = n.text + (n.lazy ? '?' : '');
        if (!n.possessive) return this.node(n.atom) + q;
        // X*+ is (?>X*): a lookahead captures what the greedy match takes, the backreference
        // consumes exactly that, and nothing can backtrack into it.
        const slot = ++this.count;
        return `(?=(${this.node(n.atom)}${n.text}))(?:\\${slot})`;
      }
    }
  }

  private group(kind: GroupKind, body: Alternation, index?: number, name?: string): string {
    switch (kind) {
      case 'capture': {
        const slot = ++this.count;
        if (index !== undefined) this.map.set(index, slot);
        return name === undefined ? `(${this.alternation(body)})` : `(?<${name}>${this.alternation(body)})`;
      }
      case 'atomic': {
        const slot = ++this.count;
        return `(?=(${this.alternation(body)}))(?:\\${slot})`;
      }
      case 'noncapture':
        return `(?:${this.alternation(body)})`;
      case 'ahead':
        return `(?=${this.alternation(body)})`;
      case 'notahead':
        return `(?!${this.alternation(body)})`;
      case 'behind':
        return `(?<=${this.alternation(body)})`;
      case 'notbehind':
        return `(?<!${this.alternation(body)})`;
    }
  }
}

/** Translates a Proxmox VE (Perl) pattern into an anchored ECMAScript pattern valid with the `u` flag. */
export function translatePerlPattern(source: string): PatternTranslation {
  return translatePattern(source, 'perl');
}

/** Translates a pattern of the given dialect into ECMAScript source valid with the `u` flag. */
export function translatePattern(source: string, dialect: PatternDialect): PatternTranslation {
  try {
    const ast = new Parser(source, dialect).parse();
    const body = new Renderer().alternation(ast);
    const pattern = dialect === 'perl' ? `^(?:${body})$` : body;
    new RegExp(pattern, 'u');
    return { ok: true, pattern };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, reason: error.message };
    if (error instanceof SyntaxError) return { ok: false, reason: `does not compile: ${error.message}` };
    throw error;
  }
}
