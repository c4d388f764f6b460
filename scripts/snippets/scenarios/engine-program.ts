import { realpathSync } from 'node:fs';
import { engineSpecById } from '../../engines/catalog.ts';
import { toolCommand, type Tool } from '../../engines/shims.ts';
import type { Engine } from '../../harness/engine.ts';

/**
 * The binary file of one of the engine's programs (its shim runs it, through its own loader for a
 * fetched engine), for a verification that reads the program itself (the log lines it can print).
 * Never a program found on the verify process's PATH.
 */
export function engineProgramFile(engine: Engine, tool: Tool): string {
  const spec = engineSpecById(engine.id);
  const command = spec ? toolCommand(spec, tool) : undefined;
  const file = command?.at(-1);
  if (file) return realpathSync(file);
  if (tool === 'server') return realpathSync(engine.server);
  throw new Error(`No ${tool} program for ${engine.id}`);
}
