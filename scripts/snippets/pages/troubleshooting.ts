import { damagedRdbSnippets } from './troubleshooting.damaged-rdb.ts';
import { aofCutShortSnippets } from './troubleshooting.aof-cut-short.ts';
import { aofGarbageSnippets } from './troubleshooting.aof-garbage.ts';
import { aofRepairSnippets } from './troubleshooting.aof-repair.ts';
import { aofMissingFileSnippets } from './troubleshooting.aof-missing-file.ts';
import { misconfSnippets } from './troubleshooting.misconf.ts';
import { forkSnippets } from './troubleshooting.fork.ts';
import { memorySnippets } from './troubleshooting.memory.ts';
import { slownessSnippets } from './troubleshooting.slowness.ts';

/** The troubleshooting page's blocks, one file a fault (troubleshooting.<fault>.ts), in page order. */
export const troubleshootingSnippets = [
  ...damagedRdbSnippets,
  ...aofCutShortSnippets,
  ...aofGarbageSnippets,
  ...aofRepairSnippets,
  ...aofMissingFileSnippets,
  ...misconfSnippets,
  ...forkSnippets,
  ...memorySnippets,
  ...slownessSnippets,
];
