#!/usr/bin/env node
// proxmox-mcp launcher. The server is one bundle (server.cjs) compiled with a V8 code cache made at
// build time, so start-up skips parsing and compiling ~1 MB of JavaScript. A cache made by another
// Node.js version is rejected by V8 and the bundle is simply compiled as usual.
import { readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const file = fileURLToPath(new URL('./server.cjs', import.meta.url));
const cacheFile = `${file}.cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
// Set only by scripts/build.ts: after serving a first tools/list, write the cache and stop.
if (process.env.PROXMOX_MCP_BUILD_CODE_CACHE === '1') {
  setTimeout(() => {
    writeFileSync(cacheFile, script.createCachedData());
    process.exit(0);
  }, 1500).unref();
}
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
