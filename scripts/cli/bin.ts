#!/usr/bin/env node
// The `redis-playbook` executable. In a checkout (package.json "bin", `npx redis-playbook …`) it runs as
// TypeScript on the node@24 devDependency; `npm run build:cli` bundles it into the package's
// JavaScript (Node 20 and later) and into the single executable, so it must not use top-level await.
import * as nodeModule from 'node:module';

// Node's on-disk compile cache (in the OS temp dir, or NODE_COMPILE_CACHE): later runs skip compiling
// the CLI's modules again, which took about 40 % of a run's start-up CPU. It exists from Node 22.1 (Node
// 20 runs without it). Only modules loaded after this call are cached, hence the dynamic import.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

void import('./main.ts').then(async ({ main }) => {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  });
});
