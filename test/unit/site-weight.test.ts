import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { staticImports } from '../../scripts/bench/site-weight.ts';

describe('staticImports', () => {
  it("finds a minified module's static imports and re-exports, not its dynamic import()", () => {
    const source =
      'import{t as e}from"./page.Bx1.js";import"./side.C2.js";export*from"./all.D3.js";' +
      'export{a as b}from"./some.E4.js";const{PagefindUI:n}=await import("./ui-core.F5.js");';
    assert.deepEqual(staticImports(source), ['./page.Bx1.js', './side.C2.js', './all.D3.js', './some.E4.js']);
  });

  it('ignores strings that merely contain the word import', () => {
    assert.deepEqual(staticImports('console.log("import this");let importer=1;'), []);
  });
});
