#!/usr/bin/env node
// The `redis-playbook` executable (package.json "bin"). Needs Node 24 (type stripping): in a
// checkout, `npx redis-playbook …` puts node_modules/.bin, and so the node@24 devDependency, first on PATH.
import { enableCompileCache } from 'node:module';

// Node's on-disk compile cache (in the OS temp dir, or NODE_COMPILE_CACHE): later runs skip compiling
// the CLI's modules and stripping their types again, which took about 40 % of a run's start-up CPU.
// Only modules imported after this call are cached, hence the dynamic import.
enableCompileCache();
const { main } = await import('./main.ts');

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
