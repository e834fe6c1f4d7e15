// When the server asks V8 for a full collection, and which V8 flags it sets.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BATCH_CHARS, HEAP_GROWTH_BYTES, HEAP_GROWTH_NOW_BYTES, IDLE_MS, LARGE_ANSWER_CHARS, V8_FLAGS, createCollector, exposedGc } from '../src/memory.js';

describe('collections after large answers and bursts', () => {
  let heap = 0;
  const collect = vi.fn(() => {
    heap = 10 << 20;
  });
  let note: (chars: number) => void;
  beforeEach(() => {
    vi.useFakeTimers();
    collect.mockClear();
    heap = 10 << 20;
    note = createCollector({ collect, heapUsed: () => heap });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('leaves small answers to V8 while the heap stays put', () => {
    for (let i = 0; i < 100; i++) note(LARGE_ANSWER_CHARS - 1);
    vi.advanceTimersByTime(1000);
    expect(collect).not.toHaveBeenCalled();
  });

  it('collects once the server is idle after a large answer, not before the answer is sent', () => {
    note(LARGE_ANSWER_CHARS);
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(IDLE_MS - 10);
    note(LARGE_ANSWER_CHARS);
    vi.advanceTimersByTime(IDLE_MS - 10);
    // The second answer restarted the wait.
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(10);
    expect(collect).toHaveBeenCalledTimes(1);
  });

  it('collects at the next turn once several megabytes of large answers have gone by', () => {
    const answers = Math.ceil(BATCH_CHARS / LARGE_ANSWER_CHARS);
    for (let i = 0; i < answers; i++) note(LARGE_ANSWER_CHARS);
    expect(collect).not.toHaveBeenCalled();
    // Small answers meanwhile do not put it off.
    note(10);
    vi.advanceTimersByTime(0);
    expect(collect).toHaveBeenCalledTimes(1);
    // The count starts again: one more large answer waits for idleness.
    note(LARGE_ANSWER_CHARS);
    vi.advanceTimersByTime(0);
    expect(collect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(IDLE_MS);
    expect(collect).toHaveBeenCalledTimes(2);
  });

  it('collects when idle after a burst of small answers has grown the heap a little', () => {
    note(100);
    const step = 64 * 1024;
    for (let grown = 0; grown < HEAP_GROWTH_NOW_BYTES - step; grown += step) {
      heap += step;
      note(100);
      vi.advanceTimersByTime(IDLE_MS - 1);
    }
    expect(heap - (10 << 20)).toBeGreaterThan(HEAP_GROWTH_BYTES);
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(collect).toHaveBeenCalledTimes(1);
    // Measured again from the collected heap: a little growth is left alone.
    heap += 1024;
    note(100);
    vi.advanceTimersByTime(1000);
    expect(collect).toHaveBeenCalledTimes(1);
  });

  it('collects at the next turn, busy or not, once the heap has grown a lot', () => {
    note(100);
    heap += HEAP_GROWTH_NOW_BYTES;
    note(100);
    vi.advanceTimersByTime(0);
    expect(collect).toHaveBeenCalledTimes(1);
  });

  it('gets V8 full collection from Node.js without --expose-gc, and it runs', () => {
    const saved = (globalThis as { gc?: unknown }).gc;
    delete (globalThis as { gc?: unknown }).gc;
    try {
      const collect = exposedGc();
      expect(typeof collect).toBe('function');
      collect?.();
      // Made visible to a fresh context only: the globals the server runs in stay as they were.
      expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    } finally {
      if (saved !== undefined) (globalThis as { gc?: unknown }).gc = saved;
    }
  });

  it('does nothing where V8 gives no collection', () => {
    const none = createCollector({ collect: null, heapUsed: () => heap });
    none(BATCH_CHARS);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('V8 flags', () => {
  it('exist in this Node.js, so setting them at start-up is not an error on stderr', () => {
    const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    for (const flag of [...V8_FLAGS, '--expose-gc']) {
      const name = flag.replace(/=.*$/, '');
      expect(options, name).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
    }
  });

  it('are the ones the build made its code cache under, so V8 takes the cache at start-up', () => {
    // V8 rejects a code cache made under other flags, and the server then compiles at start-up.
    const file = fileURLToPath(new URL('../dist/server.cjs', import.meta.url));
    const script = `
      const v8 = require('node:v8'); for (const f of ${JSON.stringify(V8_FLAGS)}) v8.setFlagsFromString(f);
      const { readFileSync } = require('node:fs'); const vm = require('node:vm'); const Module = require('node:module');
      const file = ${JSON.stringify(file)};
      const s = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData: readFileSync(file + '.cache') });
      process.stdout.write(String(s.cachedDataRejected));`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('false');
  });

  it('are accepted by Node.js as the server sets them, without a word on either stream', () => {
    const script = `const v8 = require('node:v8'); for (const f of ${JSON.stringify(V8_FLAGS)}) v8.setFlagsFromString(f);`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('');
  });
});
