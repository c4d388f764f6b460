import { engineTraits } from '../../engines/catalog.ts';
import type { DisposableRedis } from '../../harness/redis-server.ts';
import { seedSaveRules } from '../pages/snapshot-schedule.ts';
import { seedServerConfig } from '../pages/where-is-my-data.ts';
import { engineVariant } from '../variants.ts';

/** What several fault files of the troubleshooting page share (scripts/snippets/pages/troubleshooting.*.ts). */

export const page = 'operations/troubleshooting';

/** The log file of a harness server, as `{{logFile}}`. */
export const logFileValue = ({ server }: { server: DisposableRedis | undefined }) => ({ logFile: server?.logFile ?? '' });

// ---------------------------------------------------------------------------------------------------
// A damaged dump.rdb (snapshot-only server)

/**
 * The seed's save rules one pair a line (`save 900 1`, `save 300 10`, …), as every engine reads them:
 * Redis 6.0.16 reads one line of several pairs (`save 900 1 300 10 60 10000`) as no save rules at
 * all, without a word (measured: CONFIG GET save is ""), so it would neither save at a stop nor MISCONF.
 */
export const seedSaveLines = seedSaveRules.split(' ').flatMap((seconds, i, all) => (i % 2 === 0 ? [`${seconds} ${all[i + 1]}`] : []));

/** `docker logs` piped into `grep`: Redis in a container logs to stdout, which Docker keeps until the container is removed. */
export const dockerLogGrep = (grep: string) => `docker logs {{container}} 2>&1 | ${grep}`;

// ---------------------------------------------------------------------------------------------------
// A damaged AOF set

export const aofServer = (extra: Record<string, string> = {}) => ({ config: { appendonly: 'yes', save: seedSaveLines, ...extra } });

/** The seed's Compose service (AOF on, its save rules), plus `extra`. */
export const aofContainer = (extra: Record<string, string> = {}) => ({ config: { ...seedServerConfig, ...extra } });

// Valkey's log names its own checker, valkey-check-aof; the rest of the line is the same.
export const UNEXPECTED_EOF =
  /# Unexpected end of file reading the append only file appendonly\.aof\.1\.incr\.aof\. You can: 1\) Make a backup of your AOF file, then use \.\/(redis|valkey)-check-aof --fix <filename\.manifest>\./;
export const BAD_FORMAT_BEFORE_86 =
  /# Bad file format reading the append only file appendonly\.aof\.1\.incr\.aof: make a backup of your AOF file, then use \.\/(redis|valkey)-check-aof --fix <filename\.manifest>/;
// Redis 8.6 names the file with its dir, gives the offset, and offers aof-load-corrupt-tail-max-size.
export const BAD_FORMAT_WITH_DIR =
  /# Bad file format reading the append only file appendonlydir\/appendonly\.aof\.1\.incr\.aof at offset \d+\.\s+make a backup of your AOF file, then use \.\/redis-check-aof --fix <filename\.manifest>\.\s+Alternatively you can set the 'aof-load-corrupt-tail-max-size'/;
// Redis 6.0 (one appendonly.aof) names no file and gives the checker the file itself.
export const SINGLE_FILE_LINE_WHY =
  'its AOF is one file, so the line names no file and ends `redis-check-aof --fix <filename>`: give it appendonly.aof.';
export const BAD_FORMAT_SINGLE_FILE =
  /# Bad file format reading the append only file: make a backup of your AOF file, then use \.\/redis-check-aof --fix <filename>$/m;
export const UNEXPECTED_EOF_SINGLE_FILE =
  /# Unexpected end of file reading the append only file\. You can: 1\) Make a backup of your AOF file, then use \.\/redis-check-aof --fix <filename>\./;
/** The log line of an AOF whose incr file is damaged mid-way, as this engine writes it. */
export const badFormat = (engineId: string | undefined) => {
  const traits = engineTraits(engineId);
  if (traits.aofLayout === 'file') return BAD_FORMAT_SINGLE_FILE;
  return traits.aofLogWithDir ? BAD_FORMAT_WITH_DIR : BAD_FORMAT_BEFORE_86;
};
/** The log line of an AOF cut short that stops the start (aof-load-truncated no), as this engine writes it. */
export const unexpectedEof = (engineId: string | undefined) =>
  engineTraits(engineId).aofLayout === 'file' ? UNEXPECTED_EOF_SINGLE_FILE : UNEXPECTED_EOF;

/** Where log lines and replies about saving use Redis 6.0's words: the command that finds its lines, and why. */
export const wording6Variant = (why: string, command: string) => engineVariant((traits) => traits.saveWording6, why, command);
