import { describe, expect, it } from 'vitest';
import { translatePattern, translatePerlPattern } from '../scripts/regex-translate.js';

describe('translatePerlPattern', () => {
  const ok = (source: string): RegExp => {
    const r = translatePerlPattern(source);
    if (!r.ok) throw new Error(r.reason);
    return new RegExp(r.pattern, 'u');
  };

  it('anchors the whole pattern, alternations included', () => {
    const re = ok('/dev/parport\\d+|/dev/usb/lp\\d+');
    expect(re.test('/dev/usb/lp0')).toBe(true);
    expect(re.test('/dev/parport0 junk')).toBe(false);
    expect(re.test('junk /dev/usb/lp0')).toBe(false);
  });

  it('keeps Perl meanings that ECMAScript spells differently', () => {
    expect(ok('a.b').test('a\rb')).toBe(true); // Perl's dot excludes only \n
    expect(ok('a.b').test('a\nb')).toBe(false);
    expect(ok('(?^:^x$)').test('x')).toBe(true);
    expect(ok('[A-Za-z0-9\\-\\_]+').test('a-_b')).toBe(true);
    expect(ok('\\x41\\x{263A}').test('A\u263a')).toBe(true);
    expect(ok('a{,2}').test('aa')).toBe(true);
    expect(ok('x{').test('x{')).toBe(true);
    expect(ok('(a)(b)\\2').test('abb')).toBe(true);
    expect(ok('(?>(a))+\\1').test('aaa')).toBe(true); // references follow the renumbered groups
  });

  it('refuses what it cannot translate faithfully', () => {
    for (const source of ['\\p{L}', '(?x) a', '(?m)^a', '\\G', '(?(1)a|b)', '(*FAIL)', '[[:^alpha:]]', '(?i)\u00e9']) {
      expect(translatePerlPattern(source).ok, source).toBe(false);
    }
  });
});

describe('translatePattern, Rust dialect (Proxmox Backup Server)', () => {
  const ok = (source: string): RegExp => {
    const r = translatePattern(source, 'rust');
    if (!r.ok) throw new Error(r.reason);
    return new RegExp(r.pattern, 'u');
  };

  it('keeps the pattern a search, with its own anchors, as the regex crate runs it', () => {
    const anchored = ok('^(?:[A-Za-z0-9_][A-Za-z0-9._\\-]*)$');
    expect(anchored.test('store-1')).toBe(true);
    expect(anchored.test('-store')).toBe(false);
    expect(anchored.test('store\n')).toBe(false); // Rust's `$` is the end of the text only
    // Half-anchored alternation stays half-anchored, exactly as Rust matches it.
    const half = ok('^(?:(?:h|s|x?v)d[a-z]+)|(?:nvme\\d+n\\d+)$');
    expect(half.test('sda and more')).toBe(true);
    expect(half.test('x nvme0n1')).toBe(true);
    expect(half.test('x sda')).toBe(false);
  });

  it('translates POSIX classes, negated ones included, as the ASCII classes Rust has', () => {
    const comment = ok('^[[:^cntrl:]]*$');
    expect(comment.test('a comment with ünïcode 🙂')).toBe(true);
    expect(comment.test('tab\there')).toBe(false);
    expect(comment.test('del\u007f')).toBe(false);
    expect(comment.test('c1 \u0085 is not ASCII cntrl')).toBe(true);
    const user = ok('^(?:[^\\s:/[:cntrl:]]+)@(?:[A-Za-z0-9_][A-Za-z0-9._\\-]*)$');
    expect(user.test('admin@pbs')).toBe(true);
    expect(user.test('ad min@pbs')).toBe(false);
    expect(user.test('ad\u2003min@pbs')).toBe(false); // Unicode White_Space, as Rust's \s
    expect(user.test('ad:min@pbs')).toBe(false);
    expect(ok('^[[:^digit:]x]+$').test('abcx')).toBe(true);
    expect(ok('^[[:^digit:]]+$').test('a1')).toBe(false);
  });

  it('spells out Rust Unicode classes and named groups', () => {
    expect(ok('^\\d+$').test('\u0661\u0662')).toBe(true); // Arabic-Indic digits are \d in Rust
    expect(ok('^\\w+$').test('élan_1')).toBe(true);
    expect(ok('^\\s$').test('\u0085')).toBe(true);
    expect(ok('^\\s$').test('\ufeff')).toBe(false);
    const upid = ok('^UPID:(?P<node>[a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?):(?P<pid>[0-9A-Fa-f]{8}):$');
    expect(upid.test('UPID:pbs:0000ABCD:')).toBe(true);
    expect(ok('^\\x41\\u{263A}\\v$').test('A\u263a\u000b')).toBe(true);
  });

  it('handles multi-line mode as Rust does: ^ and $ at line boundaries', () => {
    const re = ok('(?m)^([[:^cntrl:]]*)$');
    expect(re.test('first\nsecond')).toBe(true);
    expect(ok('(?m)^b$').test('a\nb\nc')).toBe(true);
    expect(ok('^b$').test('a\nb\nc')).toBe(false);
  });

  it('refuses what Rust would not accept or what ECMAScript cannot say the same way', () => {
    for (const source of ['(?i)abc', '\\bword', '(a)\\1', '(?=a)', 'a*+', '[a[bc]]', '[a&&b]', '(?x) a', '(?-u)\\w', '\\p{L}']) {
      expect(translatePattern(source, 'rust').ok, source).toBe(false);
    }
  });
});
