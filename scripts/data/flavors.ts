import { z } from 'zod';

/** Ways a reader runs Redis. A block shows one tab per flavor it has, synced site-wide. */
export const FlavorIdSchema = z.enum(['host', 'docker']);
export type FlavorId = z.infer<typeof FlavorIdSchema>;

/** Tab labels of the flavors. */
export const flavorLabels: Record<FlavorId, string> = {
  host: 'Host install',
  docker: 'Docker Compose',
};

/** The flavors that exist among `flavors`, in tab order (Docker Compose first). */
export function flavorEntries<F>(flavors: Partial<Record<FlavorId, F>>): [FlavorId, F][] {
  const order: FlavorId[] = ['docker', 'host'];
  return order.flatMap((id) => {
    const flavor = flavors[id];
    return flavor ? [[id, flavor] as [FlavorId, F]] : [];
  });
}
