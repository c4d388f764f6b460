/**
 * "Your setup": the reader's own placeholder values (container, port, data dir, …), kept in
 * localStorage, shown in every command block of the page and given to its copy button. Blocks carry
 * their parts in `data-parts` (Snippet.astro); the form is SetupDialog.astro's.
 *
 * The highlighted code stays as Expressive Code rendered it: each placeholder's default text is split
 * into text nodes of its own once, and only those nodes change. Expressive Code's copy button copies
 * its `data-code` attribute (line breaks as U+007F): it is rewritten with the whole command, including
 * the final line break of a file's content that Expressive Code leaves out, so that a copy is exactly
 * the registry's text.
 */
import { decodeParts, partTexts, type EncodedPart, type SetupValues } from '../lib/command-parts.ts';

/** localStorage key of the reader's values: a JSON object, placeholder name → value. */
const storageKey = 'redis-playbook:setup';

function loadValues(): SetupValues {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(storageKey) ?? '{}');
    if (!stored || typeof stored !== 'object') return {};
    return Object.fromEntries(
      Object.entries(stored).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== ''),
    );
  } catch {
    return {};
  }
}

function storeValues(values: SetupValues): void {
  try {
    if (Object.keys(values).length > 0) localStorage.setItem(storageKey, JSON.stringify(values));
    else localStorage.removeItem(storageKey);
  } catch {
    // Storage disabled: the values still apply to this page.
  }
}

/** The text nodes of a code block's lines in order, with a line break between lines as in the command. */
function segments(code: Element): (Text | '\n')[] {
  const out: (Text | '\n')[] = [];
  code.querySelectorAll('.ec-line').forEach((line, index) => {
    if (index > 0) out.push('\n');
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) out.push(walker.currentNode as Text);
  });
  return out;
}

const lengthOf = (segment: Text | '\n') => (segment === '\n' ? 1 : segment.data.length);

/** Splits text nodes at `start` and `end`, and returns the nodes that hold exactly the text between. */
function isolate(code: Element, start: number, end: number): Text[] {
  for (const cut of [start, end]) {
    let at = 0;
    for (const segment of segments(code)) {
      if (segment !== '\n' && cut > at && cut < at + segment.data.length) {
        segment.splitText(cut - at);
        break;
      }
      at += lengthOf(segment);
    }
  }
  const nodes: Text[] = [];
  let at = 0;
  for (const segment of segments(code)) {
    if (segment !== '\n' && at >= start && at + segment.data.length <= end && segment.data) nodes.push(segment);
    at += lengthOf(segment);
  }
  return nodes;
}

/** One flavor of a command block. */
interface Block {
  element: HTMLElement;
  code: Element;
  parts: EncodedPart[];
  /** Per placeholder part, the text nodes showing it and their rendered text; `undefined` when the code shows the command differently (then it is redrawn as plain text). */
  slots: ({ nodes: Text[]; original: string[] } | undefined)[] | undefined;
  /** Redrawn as plain text (only when `slots` is undefined and a value of the reader's was shown). */
  redrawn?: boolean;
}

function blockOf(element: HTMLElement): Block | undefined {
  const code = element.querySelector('.expressive-code pre > code');
  if (!code || !element.dataset.parts) return undefined;
  const parts = decodeParts(element.dataset.parts);
  const shown = segments(code)
    .map((segment) => (segment === '\n' ? segment : segment.data))
    .join('');
  // Expressive Code does not show (or copy) a file's final line break; everything before it must match.
  if (shown !== partTexts(parts, {}).join('').replace(/\n+$/, '')) return { element, code, parts, slots: undefined };
  let at = 0;
  const slots = parts.map((part) => {
    const start = at;
    at += (part.length === 1 ? part[0] : part[1]).length;
    if (part.length === 1) return undefined;
    const nodes = isolate(code, start, at);
    return { nodes, original: nodes.map((node) => node.data) };
  });
  return { element, code, parts, slots };
}

function render(block: Block, values: SetupValues): void {
  const texts = partTexts(block.parts, values);
  const command = texts.join('');
  if (block.slots) {
    block.slots.forEach((slot, index) => {
      const part = block.parts[index];
      if (!slot || !part || part.length === 1) return;
      const custom = Boolean(values[part[0]]);
      slot.nodes.forEach((node, n) => (node.data = custom ? (n === 0 ? (texts[index] ?? '') : '') : (slot.original[n] ?? '')));
    });
  } else if (block.redrawn || block.parts.some((part) => part.length === 2 && values[part[0]])) {
    block.redrawn = true;
    block.code.replaceChildren(
      ...command
        .replace(/\n+$/, '')
        .split('\n')
        .map((text) => {
          const line = document.createElement('div');
          line.className = 'ec-line';
          line.append(Object.assign(document.createElement('div'), { className: 'code', textContent: text }));
          return line;
        }),
    );
  }
  block.element.dataset.command = command;
  block.element.querySelector('.expressive-code .copy button')?.setAttribute('data-code', command.replaceAll('\n', '\u007f'));
}

const dialog = document.querySelector<HTMLDialogElement>('dialog#your-setup');
const form = dialog?.querySelector('form');
if (dialog && form) {
  const inputs = [...form.querySelectorAll<HTMLInputElement>('input[name]')];
  const summary = form.querySelector('[data-setup-summary]');
  const blocks = [...document.querySelectorAll<HTMLElement>('[data-parts]')].flatMap((element) => blockOf(element) ?? []);
  let values = loadValues();

  const apply = () => {
    for (const block of blocks) render(block, values);
    const names = inputs.filter((input) => values[input.name]).map((input) => input.dataset.label ?? input.name);
    if (summary)
      summary.textContent = names.length ? `Commands show your values for: ${names.join(', ')}.` : 'Commands show the documented defaults.';
    document.querySelectorAll('[data-setup-count]').forEach((count) => (count.textContent = names.length ? ` (${names.length})` : ''));
  };
  const fillForm = () => {
    inputs.forEach((input) => (input.value = values[input.name] ?? ''));
  };

  form.addEventListener('input', () => {
    values = Object.fromEntries(inputs.filter((input) => input.value !== '').map((input) => [input.name, input.value]));
    storeValues(values);
    apply();
  });
  form.querySelector('[data-setup-reset]')?.addEventListener('click', () => {
    values = {};
    storeValues(values);
    fillForm();
    apply();
  });
  // A click on the backdrop (the dialog element itself, outside its form) closes it.
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close();
  });
  document.querySelectorAll<HTMLElement>('[data-open-setup]').forEach((button) => {
    button.hidden = false;
    button.addEventListener('click', () => {
      dialog.showModal();
      const first = button.dataset.openSetup?.split(' ')[0];
      (inputs.find((input) => input.name === first) ?? inputs[0])?.focus();
    });
  });
  // Values changed in another tab apply here too.
  window.addEventListener('storage', (event) => {
    if (event.key !== storageKey && event.key !== null) return;
    values = loadValues();
    fillForm();
    apply();
  });

  fillForm();
  apply();
}
