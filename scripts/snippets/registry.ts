import { z } from 'zod';
import { flavorEntries } from '../data/flavors.ts';
import { SnippetSchema, type FlavorId, type Snippet, type SnippetInput, type Flavor } from './schema.ts';
import { dataLocationSnippets } from './pages/data-location.ts';
import { snapshotScheduleSnippets } from './pages/snapshot-schedule.ts';
import { crashLossSnippets } from './pages/crash-loss.ts';
import { switchToAofSnippets } from './pages/switch-to-aof.ts';
import { automaticRecoverySnippets } from './pages/automatic-recovery.ts';
import { rollbackSnippets } from './pages/rollback.ts';
import { testRestoreSnippets } from './pages/test-restore.ts';
import { backupSnippets } from './pages/backups.ts';
import { offsiteSnippets } from './pages/offsite.ts';
import { validateSnippets } from './pages/validate.ts';
import { troubleshootingSnippets } from './pages/troubleshooting.ts';
import { integritySnippets } from './pages/integrity.ts';
import { monitoringSnippets } from './pages/monitoring.ts';
import { commonOperationsSnippets } from './pages/common-operations.ts';
import { versionsSnippets } from './pages/versions.ts';
import { upgradeComposeSnippets } from './pages/upgrade-compose.ts';
import { installSnippets } from './pages/install.ts';
import { rewindSnippets } from './pages/rewind.ts';
import { rollbackServiceSnippets } from './pages/rollback-service.ts';
import { replicationSnippets } from './pages/replication.ts';
import { redisClusterSnippets } from './pages/redis-cluster.ts';

/** Every command block of the site, in page order. */
const definitions: SnippetInput[] = [
  ...dataLocationSnippets,
  ...snapshotScheduleSnippets,
  ...crashLossSnippets,
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
export function flavorsOf(snippet: Snippet): Array<[FlavorId, Flavor]> {
  return flavorEntries<Flavor>(snippet.flavors);
}
