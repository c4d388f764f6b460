import type { FileEntry, InspectReport, Loss } from '../procedures/inspect-report.ts';
import { ruleWords, saveRulesText } from '../procedures/verdict.ts';
import { rdbFormatLabel } from '../redis/rdb-support.ts';

function row(label: string, value: string): string {
  return `  ${label.padEnd(22)}${value}`;
}

function fileLine(file: FileEntry): string {
  const format =
    file.rdbVersion === undefined ? '' : file.rdbVersion === null ? ', not an RDB header' : `, ${rdbFormatLabel(file.rdbVersion)}`;
  return `${file.size} bytes, modified ${file.mtime}${format}`;
}

function worstCase(value: number | null): string {
  if (value === null) return 'no bound';
  return value === 0 ? 'no acknowledged write lost' : `up to ${value} s of writes`;
}

function loss(label: string, value: Loss): string[] {
  return [`  ${label}: ${worstCase(value.worstCaseSeconds)} (${value.basis})`, `    ${value.words}`];
}

function dataFiles(report: InspectReport): string[] {
  const lines = [row('dir', report.dir)];
  const files = report.files;
  if (!files.readable) {
    lines.push(row('dbfilename', report.dbfilename));
    if (report.appenddirname) lines.push(row('appenddirname', report.appenddirname));
    lines.push(`  Files: not readable from here: ${files.reason}`);
    return lines;
  }
  lines.push(row('dbfilename', `${report.dbfilename}  ${files.rdb ? fileLine(files.rdb) : '(no such file yet)'}`));
  const aofLabel = report.appenddirname ? 'appenddirname' : 'appendfilename';
  const aofName = report.appenddirname ?? report.appendfilename;
  if (files.aofFiles === null) {
    lines.push(row(aofLabel, `${aofName}  (not present)`));
  } else {
    lines.push(row(aofLabel, `${aofName}  ${files.aofFiles.length} file${files.aofFiles.length === 1 ? '' : 's'}`));
    for (const file of files.aofFiles) lines.push(`    ${file.name.padEnd(32)}${fileLine(file)}`);
  }
  return lines;
}

function replicationLines({ replication }: InspectReport): string[] {
  const role =
    replication.role === 'replica' && replication.primary
      ? `replica of ${replication.primary.host}:${replication.primary.port} (link ${replication.link}), offset ${replication.offset}`
      : `primary with ${replication.replicas.length} replica${replication.replicas.length === 1 ? '' : 's'}, offset ${replication.offset}`;
  return [
    'Replication',
    row('role', role),
    ...replication.adds.map((line) => `  Adds: ${line}`),
    ...replication.doesNot.map((line) => `  Does not: ${line}`),
    ...replication.warnings.map((line) => `  WARNING: ${line}`),
  ];
}

/** The human summary of an inspection: Data files, Snapshots, AOF, Memory, What a crash can cost. */
export function formatInspectReport(report: InspectReport): string {
  const { server, verdict } = report;
  const engine =
    server.name === 'redis' ? `Redis ${server.version}` : `${server.name} ${server.version} (redis_version ${server.redisVersion})`;
  const rules = report.save.length === 0 ? 'none (save "")' : `${saveRulesText(report.save)}: ${report.save.map(ruleWords).join('; ')}`;
  const bgsave = report.lastBgsave.inProgress
    ? 'in progress'
    : `${report.lastBgsave.status}${report.lastBgsave.durationSeconds === null ? ' (none since start)' : ` (took ${report.lastBgsave.durationSeconds} s)`}`;
  const rewrite = report.aof.rewriteInProgress ? 'in progress' : report.aof.rewriteScheduled ? 'scheduled' : report.aof.lastRewriteStatus;
  const lines = [
    `${engine} at ${report.url}${report.container ? ` in container ${report.container}` : ''} (pid ${server.processId}, config file ${server.configFile ?? 'none'})`,
    '',
    'Data files',
    ...dataFiles(report),
    '',
    'Snapshots (RDB)',
    row('save', rules),
    row('last save', `${new Date(report.lastSaveTime * 1000).toISOString()} (${report.lastSaveAgeSeconds} s ago)`),
    row('changes since', String(report.changesSinceLastSave)),
    row('last bgsave', bgsave),
    '',
    'AOF',
    row('appendonly', report.appendonly ? 'yes' : 'no'),
    row('appendfsync', report.appendfsync + (report.appendonly ? '' : ' (unused while appendonly is no)')),
    row('last rewrite', rewrite),
    ...(report.appendonly ? [row('last write', report.aof.lastWriteStatus)] : []),
    row(
      'timestamps',
      report.rewind.timestamps === null
        ? 'not available (aof-timestamp-enabled came with Redis 7.0)'
        : report.rewind.timestamps
          ? 'yes'
          : 'no',
    ),
    row('rewind', report.rewind.words),
    '',
    'Memory',
    row('maxmemory', report.memory.maxmemory === 0 ? '0 (no limit)' : `${report.memory.maxmemory} bytes`),
    row('maxmemory-policy', report.memory.policy),
    `  ${report.memory.note}`,
    '',
    ...replicationLines(report),
    '',
    `What a crash can cost (a restart loads: ${verdict.mode === 'aof' ? 'the AOF' : verdict.mode === 'rdb' ? 'the last snapshot' : 'no saved data, or an old dump.rdb'})`,
    ...loss('Process crash (kill -9, OOM kill)', verdict.processCrash),
    ...loss('Power loss or OS crash', verdict.powerLoss),
    ...verdict.warnings.map((warning) => `  WARNING: ${warning}`),
    ...verdict.notes.map((note) => `  Note: ${note}`),
    ...report.notes.map((note) => `Note: ${note}`),
  ];
  return `${lines.join('\n')}\n`;
}
