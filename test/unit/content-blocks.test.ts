import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FENCED_BLOCK_MESSAGE,
  fenceLanguage,
  INLINE_COMMAND_MESSAGE,
  scanPage,
  SHELL_BLOCK_MESSAGE,
} from '../../scripts/lint/content-blocks.ts';
import { registry } from '../../scripts/snippets/registry.ts';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(repo, 'scripts', 'lint', 'content-blocks.ts');
const knownId = [...registry.keys()][0] as string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the lint as `npm run lint -- DIR` does, from the repo root. */
function lint(dir: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, dir], { cwd: repo }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

let root: string;
let count = 0;

/** A fresh content dir holding the given files (path → source). */
async function contentDir(files: Record<string, string>): Promise<string> {
  const dir = join(root, `content-${++count}`);
  for (const [path, source] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), source);
  }
  return dir;
}

const page = (body: string) => `---\ntitle: A page\n---\n\nimport Snippet from '../../src/components/Snippet.astro';\n\n${body}\n`;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'content-blocks-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('npm run lint (content-blocks)', () => {
  it('fails naming file:line when a page has a ```bash block of its own', async () => {
    const dir = await contentDir({ 'docs/guide/hand-written.mdx': page('Run this:\n\n```bash\nredis-cli FLUSHALL\n```') });
    const { code, stdout } = await lint(dir);
    assert.equal(code, 1);
    // The fence is on line 9: 3 lines of frontmatter, a blank, the import, a blank, the text, a blank.
    assert.equal(stdout.trim(), `${join(dir, 'docs/guide/hand-written.mdx')}:9: ${SHELL_BLOCK_MESSAGE}`);
  });

  it('reports every offending block, one line each, across files', async () => {
    const dir = await contentDir({
      'docs/a.md': '# A\n\n~~~sh\nls\n~~~\n\n```console title="prompt"\n$ ls\n```\n',
      'docs/b.mdx': page('```zsh\nls\n```'),
    });
    const { code, stdout } = await lint(dir);
    assert.equal(code, 1);
    assert.deepEqual(stdout.trim().split('\n'), [
      `${join(dir, 'docs/a.md')}:3: ${SHELL_BLOCK_MESSAGE}`,
      `${join(dir, 'docs/a.md')}:7: ${SHELL_BLOCK_MESSAGE}`,
      `${join(dir, 'docs/b.mdx')}:7: ${SHELL_BLOCK_MESSAGE}`,
    ]);
  });

  it('passes a content dir whose commands all come from <Snippet/> or say why they are not verified here', async () => {
    const dir = await contentDir({
      'docs/index.mdx': page(
        `<Snippet id="${knownId}" />\n\nSome \`inline code\`, a mention of \`docker exec\`, and a config file:\n\n<NotVerified block reason="a file, not a command">\n\n\`\`\`yaml\nservices: {}\n\`\`\`\n\n</NotVerified>\n\nThen <NotVerified reason="root on your machine">\`sudo sysctl vm.overcommit_memory=1\`</NotVerified>.`,
      ),
    });
    const { code, stdout } = await lint(dir);
    assert.equal(code, 0, stdout);
    assert.match(
      stdout,
      /^content-blocks: 1 page, 1 <Snippet\/> block, every command block comes from the registry or says why it is not verified here\n$/,
    );
  });

  it('fails when a <Snippet/> names an id the registry does not have', async () => {
    const dir = await contentDir({ 'docs/typo.mdx': page(`<Snippet id="${knownId}" />\n\n<Snippet id="no-such-snippet" />`) });
    const { code, stdout } = await lint(dir);
    assert.equal(code, 1);
    assert.equal(
      stdout.trim(),
      `${join(dir, 'docs/typo.mdx')}:9: <Snippet id="no-such-snippet"> is not in the registry (scripts/snippets)`,
    );
  });

  it('exits 2 when the content dir does not exist', async () => {
    const { code, stderr } = await lint(join(root, 'missing'));
    assert.equal(code, 2);
    assert.match(stderr, /is not a directory/);
  });

  it('passes the real content/ of the site', async () => {
    const { code, stdout } = await lint(join(repo, 'content'));
    assert.equal(code, 0, stdout);
  });
});

describe('scanPage', () => {
  const known = (id: string) => id === 'known';
  const lines = (source: string) => scanPage(source, known).findings.map((f) => f.line);

  it('flags every shell language spelling, with attributes after the language', () => {
    for (const info of [
      'sh',
      'bash',
      'shell',
      'console',
      'zsh',
      'shellscript',
      'BASH',
      'bash title="x"',
      'sh {2}',
      'bash{1,3}',
      '{.bash}',
      ' shell frame="none"',
    ]) {
      assert.deepEqual(lines(`\`\`\`${info}\nls\n\`\`\`\n`), [1], info);
      assert.deepEqual(lines(`~~~~${info}\nls\n~~~~\n`), [1], `tilde ${info}`);
    }
  });

  it('flags fenced blocks of every other language and of none, unless inside <NotVerified block>', () => {
    for (const info of ['', 'yaml', 'ini', 'js', 'txt', 'bashful', 'shell-script-ish']) {
      assert.deepEqual(scanPage(`\`\`\`${info}\nls\n\`\`\`\n`, known).findings, [{ line: 1, message: FENCED_BLOCK_MESSAGE }], info);
      assert.deepEqual(lines(`<NotVerified block reason="why">\n\n\`\`\`${info}\nls\n\`\`\`\n\n</NotVerified>\n`), [], `marked ${info}`);
    }
    // An inline marker does not cover a block.
    assert.deepEqual(lines('<NotVerified reason="why">\n```\nls\n```\n</NotVerified>\n'), [2]);
    assert.equal(fenceLanguage('bashful title="x"'), 'bashful');
  });

  it('flags system commands alone in inline code unless inside <NotVerified>, not mentions of a program', () => {
    const flagged = [
      'sudo systemctl stop redis-server',
      'sudo sysctl vm.overcommit_memory=1',
      'sysctl vm.overcommit_memory=1',
      'systemctl restart redis-server',
      'CONFIG SET stop-writes-on-bgsave-error yes',
      'redis-cli -p 6379 SHUTDOWN',
    ];
    for (const command of flagged) {
      assert.deepEqual(
        scanPage(`Run \`${command}\` now.\n`, known).findings,
        [{ line: 1, message: `${INLINE_COMMAND_MESSAGE}: \`${command}\`` }],
        command,
      );
      assert.deepEqual(lines(`Run <NotVerified reason="why">\`${command}\`</NotVerified> now.\n`), [], `marked ${command}`);
    }
    for (const mention of [
      'docker exec',
      'kill -9',
      'CONFIG SET dir',
      'systemctl stop',
      'vm.overcommit_memory = 1',
      'redis-cli INFO keyspace',
    ]) {
      assert.deepEqual(lines(`A \`${mention}\` here.\n`), [], mention);
    }
  });

  it('finds indented fences (inside JSX components) and fences in blockquotes', () => {
    assert.deepEqual(lines('<Aside>\n    ```bash\n    ls\n    ```\n</Aside>\n'), [2]);
    assert.deepEqual(lines('> ```sh\n> ls\n> ```\n'), [1]);
  });

  it('does not read the content of a fence as fences or tags', () => {
    const source = '````md\n```bash\nls\n```\n<Snippet id="unknown" />\n````\n';
    assert.deepEqual(scanPage(source, known), { findings: [{ line: 1, message: FENCED_BLOCK_MESSAGE }], snippetIds: [] });
  });

  it('closes a fence only with the same marker at least as long', () => {
    assert.deepEqual(lines('````yaml\n```\n~~~~\n```bash\n````\n```bash\nls\n```\n'), [1, 6]);
  });

  it('checks <Snippet/> ids, across lines and in every quoting', () => {
    const source = [
      '<Snippet id="known"/>',
      "<Snippet id='nope' />",
      '<Snippet\n  id={"known"}\n/>',
      '<Snippet id={`gone`} />',
      '<Snippet id={someVar} />',
      'Use `<Snippet id="x"/>` in prose.',
    ].join('\n');
    assert.deepEqual(scanPage(source, known), {
      findings: [
        { line: 2, message: '<Snippet id="nope"> is not in the registry (scripts/snippets)' },
        { line: 6, message: '<Snippet id="gone"> is not in the registry (scripts/snippets)' },
        { line: 7, message: '<Snippet> without a literal id="…"' },
      ],
      snippetIds: ['known', 'nope', 'known', 'gone'],
    });
  });
});
