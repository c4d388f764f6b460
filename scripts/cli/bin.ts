#!/usr/bin/env node
// The `redis-playbook` executable (package.json "bin"). Needs Node 24 (type stripping): in a
// checkout, `npx redis-playbook …` puts node_modules/.bin, and so the node@24 devDependency, first on PATH.
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
