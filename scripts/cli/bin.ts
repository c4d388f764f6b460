#!/usr/bin/env node
const x: number = 1;
console.log("hello", x, process.version, process.argv.slice(2));
