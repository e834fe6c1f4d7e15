// When the server asks V8 for a full collection after large answers, and which V8 flags it sets.
import { execFileSync, spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LARGE_ANSWER_CHARS, V8_FLAGS, noteAnswerSize } from '../src/memory.js';

describe('collections after large answers', () => {
  const gc = vi.fn();
  beforeEach(() => {
    vi.useFakeTimers();
    gc.mockClear();
    // The module uses an exposed gc when there is one (node --expose-gc); here, this spy.
    (globalThis as { gc?: () => void }).gc = gc;
  });
  afterEach(() => {
    vi.runOnlyPendingTimers();
    vi.useRealTimers();
  });

  it('leaves small answers to V8', () => {
    for (let i = 0; i < 100; i++) noteAnswerSize(LARGE_ANSWER_CHARS - 1);
    vi.advanceTimersByTime(1000);
    expect(gc).not.toHaveBeenCalled();
  });

  it('collects once the server is idle after a large answer, not before the answer is sent', () => {
    noteAnswerSize(LARGE_ANSWER_CHARS);
    expect(gc).not.toHaveBeenCalled();
    vi.advanceTimersByTime(20);
    noteAnswerSize(LARGE_ANSWER_CHARS);
    vi.advanceTimersByTime(40);
    // The second answer restarted the wait.
    expect(gc).not.toHaveBeenCalled();
    vi.advanceTimersByTime(20);
    expect(gc).toHaveBeenCalledTimes(1);
  });

  it('collects at the next turn once several megabytes of large answers have gone by', () => {
    const answers = Math.ceil((4 * 1024 * 1024) / (1024 * 1024));
    for (let i = 0; i < answers; i++) noteAnswerSize(1024 * 1024);
    expect(gc).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(gc).toHaveBeenCalledTimes(1);
    // The count starts again: one more large answer waits for idleness.
    noteAnswerSize(1024 * 1024);
    vi.advanceTimersByTime(0);
    expect(gc).toHaveBeenCalledTimes(1);
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

  it('are accepted by Node.js as the server sets them, without a word on either stream', () => {
    const script = `const v8 = require('node:v8'); for (const f of ${JSON.stringify(V8_FLAGS)}) v8.setFlagsFromString(f);`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('');
  });
});
