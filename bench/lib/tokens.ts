// Token counts for tools/list. A real tokenizer (gpt-tokenizer, o200k) is used when it can be
// imported; otherwise bytes / 4, a rough figure that undercounts JSON punctuation.
export interface TokenCounter {
  name: string;
  count(text: string): number;
}

export async function loadTokenCounter(): Promise<TokenCounter | undefined> {
  // A pinned dev dependency; BENCH_TOKENIZER may name another entry file.
  const specifier = process.env.BENCH_TOKENIZER ?? 'gpt-tokenizer';
  try {
    const mod = (await import(specifier)) as { countTokens?: unknown };
    if (typeof mod.countTokens !== 'function') return undefined;
    const countTokens = mod.countTokens as (text: string) => number;
    return { name: 'gpt-tokenizer (o200k_base)', count: (text) => countTokens(text) };
  } catch {
    return undefined;
  }
}
