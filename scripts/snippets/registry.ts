import { z } from 'zod';
import { flavorEntries } from '../data/flavors.ts';
import { SnippetSchema, type FlavorId, type Snippet, type SnippetInput, type Flavor } from './schema.ts';
import { dataLocationSnippets } from './pages/where-is-my-data.ts';
import { snapshotScheduleSnippets } from './pages/snapshot-schedule.ts';
import { crashLossSnippets } from './pages/what-a-crash-costs.ts';
import { hostLossSnippets } from './pages/what-a-crash-costs.host-loss.ts';
import { switchToAofSnippets } from './pages/switch-to-aof.ts';
import { automaticRecoverySnippets } from './pages/automatic-recovery.ts';
import { rollbackSnippets } from './pages/rollback.ts';
import { testRestoreSnippets } from './pages/test-a-restore.ts';
import { backupSnippets } from './pages/backups.ts';
import { offsiteSnippets } from './pages/offsite.ts';
import { validateSnippets } from './pages/validate.ts';
import { troubleshootingSnippets } from './pages/troubleshooting.ts';
import { integritySnippets } from './pages/integrity.ts';
import { monitoringSnippets } from './pages/monitoring.ts';
import { commonOperationsSnippets } from './pages/common-operations.ts';
import { versionsSnippets } from './pages/moving-between-versions.ts';
import { upgradeComposeSnippets } from './pages/moving-between-versions.compose.ts';
import { installSnippets } from './pages/install.ts';
import { rewindSnippets } from './pages/undo-to-the-second.ts';
import { rollbackServiceSnippets } from './pages/rollback.service.ts';
import { replicationSnippets } from './pages/replicas-and-sentinel.ts';
import { partitionSnippets } from './pages/replicas-and-sentinel.partition.ts';
import { replicationComposeSnippets } from './pages/replicas-and-sentinel.compose.ts';
import { redisClusterSnippets } from './pages/redis-cluster.ts';

/** Every command block of the site, in page order. */
const definitions: SnippetInput[] = [
  ...dataLocationSnippets,
  ...snapshotScheduleSnippets,
  ...crashLossSnippets,
  ...hostLossSnippets,
  ...switchToAofSnippets,
  ...automaticRecoverySnippets,
  ...backupSnippets,
  ...offsiteSnippets,
  ...testRestoreSnippets,
  ...rollbackSnippets,
  ...validateSnippets,
  ...monitoringSnippets,
  ...commonOperationsSnippets,
  ...troubleshootingSnippets,
  ...integritySnippets,
  ...versionsSnippets,
  ...upgradeComposeSnippets,
  ...installSnippets,
  ...rewindSnippets,
  ...rollbackServiceSnippets,
  ...replicationSnippets,
  ...replicationComposeSnippets,
  ...partitionSnippets,
  ...redisClusterSnippets,
];

/** Validates definitions and their ids; throws one readable error listing every problem. */
export function buildRegistry(input: SnippetInput[]): Map<string, Snippet> {
  const registry = new Map<string, Snippet>();
  for (const definition of input) {
    const parsed = SnippetSchema.safeParse(definition);
    if (!parsed.success) {
      throw new Error(`Snippet "${definition.id}" is invalid:\n${z.prettifyError(parsed.error)}`);
    }
    if (registry.has(parsed.data.id)) throw new Error(`Snippet id "${parsed.data.id}" is defined twice`);
    registry.set(parsed.data.id, parsed.data);
  }
  return registry;
}

/** The site's snippets by id. */
export const registry: ReadonlyMap<string, Snippet> = buildRegistry(definitions);

/** A snippet by id; throws naming the id when it does not exist. */
export function getSnippet(id: string): Snippet {
  const snippet = registry.get(id);
  if (!snippet) throw new Error(`No snippet with id "${id}" in scripts/snippets (known: ${[...registry.keys()].join(', ')})`);
  return snippet;
}

/** The flavors of a snippet that exist, in tab order. */
export function flavorsOf(snippet: Snippet): [FlavorId, Flavor][] {
  return flavorEntries<Flavor>(snippet.flavors);
}
