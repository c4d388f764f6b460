// @ts-check
import { defineEcConfig } from '@astrojs/starlight/expressive-code';

/**
 * Expressive Code options for every code block (Markdown fences and the `<Code>` component of
 * src/components/Snippet.astro alike; functions must live here, not in astro.config.mjs).
 *
 * The frame's caption ("Terminal window" for screen readers) is UI, not content: it is kept out of the
 * search index, so that a result quotes the command, not the frame around it. Code lines never wrap
 * (a token split over two lines misreads), so a long one scrolls sideways inside its block (Expressive
 * Code makes a block that scrolls focusable by itself, once it has been laid out).
 */
export default defineEcConfig({
  plugins: [
    {
      name: 'redis-playbook-code-frame',
      hooks: {
        postprocessRenderedBlock: ({ renderData }) => {
          for (const node of renderData.blockAst.children) {
            if (node.type === 'element' && node.tagName === 'figcaption') node.properties['data-pagefind-ignore'] = '';
          }
        },
      },
    },
  ],
});
