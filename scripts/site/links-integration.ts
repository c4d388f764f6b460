import { fileURLToPath } from 'node:url';
import type { AstroIntegration } from 'astro';
import { checkLinks } from './links.ts';

/** Fails `astro build` when a link of the built site points at a page or #anchor that does not exist. */
export function linkCheck(): AstroIntegration {
  return {
    name: 'redis-playbook:link-check',
    hooks: {
      'astro:build:done': async ({ dir, logger }) => {
        const { pages, links, broken } = await checkLinks(fileURLToPath(dir));
        if (broken.length === 0) {
          logger.info(`${links} internal links on ${pages} pages resolve`);
          return;
        }
        for (const link of broken) logger.error(`${link.page}: ${link.href}: ${link.problem}`);
        throw new Error(`${broken.length} broken internal link${broken.length === 1 ? '' : 's'} in the built site (listed above)`);
      },
    },
  };
}
