import { getSnippet } from './snippets/registry.ts';
import { fillCommand } from './snippets/placeholders.ts';
for (const id of process.argv.slice(2)) { const s = getSnippet(id); console.log(`=== ${id}\n${fillCommand(s.flavors.docker!.command, {}, 'docker')}`); }
