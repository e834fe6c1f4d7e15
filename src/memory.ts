// Memory the server gives back. Measured with `npm run bench` and /proc/<pid>/smaps, three things
// made a busy server's resident set twice the size it needs:
//
// 1. undici parses HTTP with llhttp compiled to WebAssembly. V8 first compiles it with its baseline
//    compiler, then, once the first answer has been parsed, recompiles it with its optimising
//    compiler on background threads: about 30 MB for a tenth of a second, for a parser whose speed
//    does not matter here (a few microseconds an answer). `--liftoff-only` keeps the baseline code.
// 2. While a large answer is parsed, every object in it survives the young generation's
//    collections, so V8 grows that generation to its maximum (32 MB) and keeps it that size.
//    `--semi-space-growth-factor=1` keeps it at its starting size; the parsed answer moves to the
//    old generation, where it belongs for the few milliseconds it lives.
// 3. A big cluster's listing is megabytes of JSON text and as much again once parsed, all garbage
//    as soon as the page is shaped; V8 leaves it until the heap has grown enough to justify a full
//    collection. After large answers the server asks for one itself, once the answer has been sent:
//    when a few megabytes of them have gone by, or as soon as it is idle.
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
const BATCH_CHARS = 4 * 1024 * 1024;
/** Otherwise collect when no large answer has come for this long. */
const IDLE_MS = 50;

type Collect = () => void;

let collect: Collect | null | undefined;

function collector(): Collect | null {
  if (collect !== undefined) return collect;
  const exposed = (globalThis as { gc?: Collect }).gc;
  if (typeof exposed === 'function') return (collect = exposed);
  try {
    // V8's own full collection, made visible in a fresh context only: the server's globals stay as they were.
    v8.setFlagsFromString('--expose-gc');
    const fn: unknown = vm.runInNewContext('gc');
    collect = typeof fn === 'function' ? (fn as Collect) : null;
  } catch {
    collect = null;
  }
  return collect;
}

let pending = 0;
let timer: NodeJS.Timeout | undefined;

function run(): void {
  timer = undefined;
  pending = 0;
  collector()?.();
}

/** Notes that an answer of `chars` characters was read; after large ones, schedules a full collection. */
export function noteAnswerSize(chars: number): void {
  if (chars < LARGE_ANSWER_CHARS) return;
  pending += chars;
  if (timer !== undefined) clearTimeout(timer);
  // A timer, not a microtask: the answer being read is shaped and sent first.
  timer = setTimeout(run, pending >= BATCH_CHARS ? 0 : IDLE_MS);
  timer.unref();
}
