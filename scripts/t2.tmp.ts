import { startComposeProject } from './harness/docker/compose.ts';
import { runTool } from './harness/docker/exec.ts';
import { composeShim } from './harness/docker/compose.ts';
await using c = await startComposeProject({ config: { appendonly: 'yes', save: ['900 1'] } });
await c.cli(['SET', 'a', '1']); await c.cli(['SAVE']);
await c.stop(); await c.start();
const shim = await composeShim(c.root + '/bin');
const env = { ...c.composeEnv, PATH: `${shim}:${process.env.PATH}` };
for (const cmd of [`docker compose logs ${c.service} | grep -E 'DB loaded|Ready' | tail -n 5`, `docker run --rm -v ${c.volume}:/data ${c.image} ls -l /data /data/appendonlydir`, `docker volume inspect ${c.volume}`, `docker exec ${c.name} id`]) {
  const r = await runTool('bash', ['-c', cmd], { cwd: c.projectDir, env });
  console.log('$', cmd, r.exitCode); console.log(JSON.stringify(r.stdout)); console.log(r.stderr);
}
