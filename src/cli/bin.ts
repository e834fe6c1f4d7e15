// dist/cli.js: runs the server bundle (dist/server.cjs) with the V8 code cache the build made for it,
// so start-up does not compile again the functions it runs (bench/README.md has the figures). A cache
// made by another Node.js version is rejected by V8, and the bundle compiles as usual.
import { readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { tuneV8 } from '../memory.js';

interface Bundle {
  main(): Promise<void>;
}

/** Compiles and runs the bundle; the source and the cache are garbage once this returns. */
function load(file: string): Bundle {
  const cacheFile = `${file}.cache`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  // Set only by scripts/build.ts, which feeds this process a session: once it has been served, write the cache.
  if (process.env.PROXMOX_MCP_BUILD_CODE_CACHE === '1') {
    setTimeout(() => {
      writeFileSync(cacheFile, script.createCachedData());
      process.exit(0);
    }, 1500).unref();
  }
  const bundle = { exports: {} as Bundle };
  (script.runInThisContext() as (...args: unknown[]) => void)(bundle.exports, createRequire(file), bundle, file, dirname(file));
  return bundle.exports;
}

// First: before the heap grows and before undici's parser is compiled (src/memory.ts says why), and
// before the bundle is compiled, since V8 takes a code cache only under the flags it was made with.
tuneV8();
load(join(dirname(fileURLToPath(import.meta.url)), 'server.cjs'))
  .main()
  .catch((error: unknown) => {
    process.stderr.write(`proxmox-mcp: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
