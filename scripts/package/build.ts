#!/usr/bin/env node
/**
 * `npm run build:cli [-- --no-sea]`: builds what an operator installs on a Redis host, into `build/`
 * (gitignored):
 *
 * - `build/npm/`: the npm package `redis-playbook` (the CLI bundled with its dependencies into one
 *   CommonJS file for Node 20 and later, the library entry with its type declarations, the JSON Schemas
 *   of the `--json` outputs, a README and the bundled dependencies' licences), and its tarball
 *   `build/redis-playbook-<version>.tgz` packed by `npm pack`, with a `.sha256` beside it.
 * - `build/sea/redis-playbook-linux-x64`: the same bundle in a single executable (Node's single
 *   executable applications: this Node's binary with the bundle and its code cache injected by
 *   postject), which needs no Node on the host, with a `.sha256` beside it.
 *
 * The root package.json stays the private site-and-tools package of the checkout: the published one
 * is generated here from its name, version and description, with no dependencies (all are bundled).
 * The version and the commit (`-dirty` when the work tree has changes) are written into the bundle,
 * for `redis-playbook --version`.
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { InspectReportSchema } from '../procedures/inspect-report.ts';
import { BackupManifestSchema, ClusterManifestSchema } from '../procedures/manifest.ts';
import { commands } from '../cli/main.ts';
import { gitCommit, type BuildInfo } from '../cli/version.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** Where everything is built. */
export const buildDir = join(root, 'build');
/** The npm package's folder (what `npm pack` packs). */
export const packageDir = join(buildDir, 'npm');
/** The single executable for Linux x86-64. */
export const seaPath = join(buildDir, 'sea', 'redis-playbook-linux-x64');
/** The CLI bundle inside the package (also the single executable's main script). */
export const bundlePath = join(packageDir, 'redis-playbook.cjs');
/** The oldest Node the package supports: the oldest maintained LTS line. */
export const NODE_TARGET = 'node20';

const RootPackageSchema = z.object({ name: z.string(), version: z.string(), description: z.string() });

const log = (message: string) => process.stderr.write(`build:cli: ${message}\n`);

async function sha256File(path: string): Promise<void> {
  const hash = createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
  // The format `sha256sum -c` reads: the hash, two spaces, the file's name (beside the checksum file).
  await writeFile(`${path}.sha256`, `${hash}  ${basename(path)}\n`);
}

/** esbuild options shared by the CLI bundle and the library entry. */
function common(info: BuildInfo): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    target: NODE_TARGET,
    format: 'cjs',
    legalComments: 'none',
    logLevel: 'warning',
    // The build's identity for --version; `import.meta.main` blocks (scripts' own command lines, e.g.
    // in harness modules the CLI still imports) must never run inside the bundle.
    define: { REDIS_PLAYBOOK_BUILD: JSON.stringify(info), 'import.meta.main': 'false', 'import.meta.url': 'importMetaUrl' },
    // CommonJS has no import.meta: the bundle's own file URL stands in for it.
    banner: { js: 'const importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    // Node 20's missing Set methods, before any bundled module runs.
    inject: [join(root, 'scripts/package/node20.ts')],
    metafile: true,
  };
}

/** The licence files of the dependencies bundled in, in one text file (they ship inside the bundle). */
async function licences(metafile: Metafile): Promise<string> {
  const packages = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match?.[1]) packages.add(match[1]);
  }
  const parts: string[] = [];
  for (const name of [...packages].sort()) {
    const dir = join(root, 'node_modules', name);
    const meta = z
      .object({ version: z.string(), license: z.string().optional() })
      .parse(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')));
    let text = `(licence ${meta.license ?? 'unknown'}; no licence file in the package)`;
    for (const file of ['LICENSE', 'LICENSE.md', 'license', 'license.md', 'LICENCE']) {
      try {
        text = await readFile(join(dir, file), 'utf8');
        break;
      } catch {
        // Not under this name: try the next.
      }
    }
    parts.push(`${name} ${meta.version}\n${'-'.repeat(60)}\n${text.trim()}\n`);
  }
  return `The redis-playbook bundle includes these packages:\n\n${parts.join('\n')}`;
}

/** The README of the package: how to install and call it, and the CLI section of the project's README. */
async function packageReadme(version: string): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const section = /^## The CLI\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## The CLI" section');
  // The checkout's way of running it does not apply to an installed package.
  const body = section.replace(/^[\s\S]*?(?=^Passwords come from)/m, '');
  return `# redis-playbook ${version}

The operator CLI of the Redis Playbook: inspect, back up, check, test-restore and restore Redis
(and Valkey) servers, on the host or in Docker. Needs Node 20 or later; no dependencies.

\`\`\`
npm install -g redis-playbook
redis-playbook --help
\`\`\`

The library entry exports the exit codes (\`exitCodes\`) with types; \`schemas/\` holds the JSON
Schemas of each command's \`--json\` output (\`<command>.schema.json\`) and of a backup's \`manifest.json\`.

${body.trim()}
`;
}

/** Bundles the CLI and the library entry, writes the package's files; returns the tarball's path. */
export async function buildPackage(info: BuildInfo, description: string): Promise<string> {
  await rm(packageDir, { recursive: true, force: true });
  await mkdir(join(packageDir, 'schemas'), { recursive: true });
  const cli = await build({
    ...common(info),
    entryPoints: [join(root, 'scripts/cli/bin.ts')],
    // bin.ts's own `#!/usr/bin/env node` line stays the bundle's first line.
    outfile: bundlePath,
  });
  await chmod(bundlePath, 0o755);
  await build({ ...common(info), entryPoints: [join(root, 'scripts/cli/index.ts')], outfile: join(packageDir, 'index.cjs') });
  // Declarations of the library entry only (it is written so that they need nothing else).
  const declarations = join(buildDir, 'declarations');
  await rm(declarations, { recursive: true, force: true });
  await execa(
    'tsc',
    [
      '--ignoreConfig',
      '--declaration',
      '--emitDeclarationOnly',
      '--allowImportingTsExtensions',
      '--rewriteRelativeImportExtensions',
      '--strict',
      '--skipLibCheck',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--types',
      'node',
      '--rootDir',
      join(root, 'scripts'),
      '--outDir',
      declarations,
      join(root, 'scripts/cli/index.ts'),
    ],
    { preferLocal: true, localDir: root, stdio: 'inherit' },
  );
  await copyFile(join(declarations, 'cli', 'index.d.ts'), join(packageDir, 'index.d.ts'));
  await writeFile(
    join(packageDir, 'schemas', 'inspect-report.schema.json'),
    `${JSON.stringify(z.toJSONSchema(InspectReportSchema, { io: 'output' }), null, 2)}\n`,
  );
  await writeFile(
    join(packageDir, 'schemas', 'backup-manifest.schema.json'),
    `${JSON.stringify(z.toJSONSchema(BackupManifestSchema, { io: 'output' }), null, 2)}\n`,
  );
  await writeFile(
    join(packageDir, 'schemas', 'cluster-backup-manifest.schema.json'),
    `${JSON.stringify(z.toJSONSchema(ClusterManifestSchema, { io: 'output' }), null, 2)}\n`,
  );
  // Each command's --json output (watch: each line), as `<command>.schema.json`.
  for (const command of commands) {
    await writeFile(
      join(packageDir, 'schemas', `${command.name}.schema.json`),
      `${JSON.stringify(z.toJSONSchema(command.json, { io: 'output' }), null, 2)}\n`,
    );
  }
  if (!cli.metafile) throw new Error('esbuild returned no metafile');
  await writeFile(join(packageDir, 'THIRD_PARTY_LICENSES.txt'), await licences(cli.metafile));
  await writeFile(join(packageDir, 'README.md'), await packageReadme(info.version));
  const manifest = {
    name: 'redis-playbook',
    version: info.version,
    description,
    keywords: ['redis', 'valkey', 'backup', 'restore', 'rdb', 'aof', 'cli'],
    bin: { 'redis-playbook': 'redis-playbook.cjs' },
    main: 'index.cjs',
    types: 'index.d.ts',
    exports: { '.': { types: './index.d.ts', default: './index.cjs' }, './schemas/*': './schemas/*', './package.json': './package.json' },
    files: ['redis-playbook.cjs', 'index.cjs', 'index.d.ts', 'schemas/', 'THIRD_PARTY_LICENSES.txt'],
    engines: { node: '>=20' },
    os: ['linux'],
    gitHead: info.commit.replace(/-dirty$/, ''),
  };
  await writeFile(join(packageDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const packed = await execa('npm', ['pack', '--json', '--pack-destination', buildDir], {
    cwd: packageDir,
    env: { npm_config_loglevel: 'warn' },
  });
  const tarball = join(buildDir, z.array(z.object({ filename: z.string() })).parse(JSON.parse(packed.stdout))[0]?.filename ?? '');
  await sha256File(tarball);
  log(
    `${relative(root, tarball)}: ${((await stat(tarball)).size / 1e6).toFixed(2)} MB (bundle ${((await stat(bundlePath)).size / 1e6).toFixed(2)} MB)`,
  );
  return tarball;
}

/** The NODE_SEA_FUSE sentinel postject flips, as Node's documentation gives it. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Builds the single executable from the package's bundle, with this Node's binary. */
export async function buildSea(): Promise<string> {
  const dir = dirname(seaPath);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const blob = join(buildDir, 'sea-prep.blob');
  const config = join(buildDir, 'sea-config.json');
  // The main script is compiled as a function body (for the code cache), where a `#!` line is a syntax error.
  const main = join(buildDir, 'sea-main.cjs');
  await writeFile(main, (await readFile(bundlePath, 'utf8')).replace(/^#!.*\n/, ''));
  // The code cache makes its start skip compiling the bundle; the warning that the feature is
  // experimental would otherwise be printed on every run.
  await writeFile(
    config,
    JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, useSnapshot: false }),
  );
  await execa(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });
  await copyFile(process.execPath, seaPath);
  await chmod(seaPath, 0o755);
  await execa('postject', [seaPath, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], {
    preferLocal: true,
    localDir: root,
    stdout: 'ignore',
  });
  for (const file of [blob, config, main]) await rm(file);
  await sha256File(seaPath);
  log(
    `${relative(root, seaPath)}: ${((await stat(seaPath)).size / 1e6).toFixed(1)} MB (Node ${process.version} for linux-${process.arch})`,
  );
  return seaPath;
}

/** The files an operator downloads: the tarball, the single executable and their `.sha256` files. */
export interface ReleaseFiles {
  version: string;
  tarball: string;
  executable: string;
}

/** The version (root package.json) and the commit of the checkout, and the package's description. */
export async function buildIdentity(): Promise<{ info: BuildInfo; description: string }> {
  // The published package is the CLI, not the whole handbook the root package.json describes.
  const rootPackage = RootPackageSchema.parse(JSON.parse(await readFile(join(root, 'package.json'), 'utf8')));
  const commit = gitCommit(root);
  if (!commit) throw new Error(`${root} is not a git work tree: the build records the commit it was made from`);
  return {
    info: { version: rootPackage.version, commit },
    description: `The operator CLI of the Redis Playbook (${rootPackage.description.replace(/^The /, 'the ').replace(/\.$/, '')}): inspect, back up, check and restore Redis and Valkey.`,
  };
}

let release: Promise<ReleaseFiles> | undefined;

/** Builds the package and the single executable once per process (the install page's verifications share them). */
export function releaseFiles(): Promise<ReleaseFiles> {
  release ??= (async () => {
    const { info, description } = await buildIdentity();
    const tarball = await buildPackage(info, description);
    return { version: info.version, tarball, executable: await buildSea() };
  })();
  return release;
}

if (import.meta.main) {
  let sea = true;
  try {
    sea = !parseArgs({ options: { 'no-sea': { type: 'boolean', default: false } } }).values['no-sea'];
  } catch (error) {
    process.stderr.write(`build:cli: ${(error as Error).message}\nUsage: npm run build:cli [-- --no-sea]\n`);
    process.exit(2);
  }
  if (process.platform !== 'linux' || process.arch !== 'x64')
    log(`note: the single executable is made for this machine, linux-${process.arch}`);
  if (sea) await releaseFiles();
  else {
    const { info, description } = await buildIdentity();
    await buildPackage(info, description);
  }
}
