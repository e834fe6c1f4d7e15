// Memory the server gives back. Measured with `npm run bench` and /proc/<pid>/smaps (bench/README.md,
// "Memory: the V8 flags and the collections", has the figures), three things made a busy server's
// resident set twice the size it needs:
//
// 1. undici parses HTTP with llhttp compiled to WebAssembly. V8 first compiles it with its baseline
//    compiler, then, once the first answer has been parsed, recompiles it with its optimising
//    compiler on background threads, which takes tens of megabytes for a moment, for a parser whose
//    speed does not matter here. `--liftoff-only` keeps the baseline code.
// 2. While a large answer is parsed, every object in it survives the young generation's
//    collections, so V8 grows that generation to its maximum and keeps it that size.
//    `--semi-space-growth-factor=1` keeps it at its starting size; the parsed answer moves to the
//    old generation, at a small price in time. On the largest answer the server reads at all (the
//    cap src/proxmox/envelope.ts sets before parsing) the flag costs more time for the same peak:
//    that cap, not this flag, is what bounds the worst case.
// 3. A big cluster's listing is megabytes of JSON text and as much again once parsed, all garbage
//    as soon as the page is shaped; V8 leaves it until the heap has grown enough to justify a full
//    collection, and so it does with what a burst of calls leaves behind. The server asks for one
//    itself, once the answer has been sent (createCollector says when).
//
// Both flags only steer V8's own choices; neither changes what any code computes. They are set as
// the server starts, before undici's parser is compiled and before the heap has grown.
import v8 from 'node:v8';
import vm from 'node:vm';

export const V8_FLAGS = ['--liftoff-only', '--semi-space-growth-factor=1'] as const;

export function tuneV8(): void {
  for (const flag of V8_FLAGS) v8.setFlagsFromString(flag);
}

/** Answers smaller than this leave little garbage; V8's own collections handle them. */
export const LARGE_ANSWER_CHARS = 256 * 1024;
/** Collect at once when this much large-answer text has gone by since the last collection. */
export const BATCH_CHARS = 4 * 1024 * 1024;
/** Collect when idle once the heap holds this much more than after the last collection (a burst of small calls)... */
export const HEAP_GROWTH_BYTES = 4 * 1024 * 1024;
/** ...and at the next turn, busy or not, once it holds this much more. */
export const HEAP_GROWTH_NOW_BYTES = 8 * 1024 * 1024;
/** How long without an answer counts as idle. */
export const IDLE_MS = 50;

export interface CollectorParts {
  /** A full collection; null when V8 will not give one. */
  collect: (() => void) | null;
  /** Bytes in the heap now, garbage included. */
  heapUsed: () => number;
}

/**
 * Decides when to ask for a full collection: after large answers (at the next turn once a few
 * megabytes of them have gone by, else when idle), and after the heap has grown by a few megabytes
 * since the last one (a burst of calls leaves its garbage in the old generation too): when idle, or
 * at the next turn if it keeps growing; in a burst of small calls that is one every several hundred
 * calls. Never while an answer is being made: always from a timer.
 */
export function createCollector(parts: CollectorParts): (chars: number) => void {
  let pending = 0;
  let timer: NodeJS.Timeout | undefined;
  let soon = false;
  let baseline: number | undefined;
  const run = (): void => {
    timer = undefined;
    pending = 0;
    parts.collect?.();
    baseline = parts.heapUsed();
  };
  return (chars) => {
    if (parts.collect === null) return;
    const used = parts.heapUsed();
    baseline ??= used;
    const grown = used - baseline;
    if (chars >= LARGE_ANSWER_CHARS) pending += chars;
    else if (grown < HEAP_GROWTH_BYTES) return;
    const now = pending >= BATCH_CHARS || grown >= HEAP_GROWTH_NOW_BYTES;
    // A collection at the next turn is coming anyway.
    if (timer !== undefined && soon) return;
    // In a burst this runs on every call: restarting the idle wait is the cheap case.
    if (timer !== undefined && !now) {
      timer.refresh();
      return;
    }
    if (timer !== undefined) clearTimeout(timer);
    soon = now;
    timer = setTimeout(run, now ? 0 : IDLE_MS);
    timer.unref();
  };
}

/** V8's full collection: the one `node --expose-gc` gives, else one made visible to a fresh context. */
export function exposedGc(): (() => void) | null {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    // V8's own full collection, made visible in a fresh context only: the server's globals stay as they were.
    v8.setFlagsFromString('--expose-gc');
    const fn: unknown = vm.runInNewContext('gc');
    return typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    return null;
  }
}

let note: ((chars: number) => void) | undefined;
let gc: (() => void) | null | undefined;

/** Notes that an answer of `chars` characters was read from Proxmox. */
export function noteAnswerSize(chars: number): void {
  // The collection function is found when first needed: making a context for it would delay the first answer.
  const collect = (): void => {
    if (gc === undefined) gc = exposedGc();
    gc?.();
  };
  note ??= createCollector({ collect, heapUsed: () => v8.getHeapStatistics().used_heap_size });
  note(chars);
}
