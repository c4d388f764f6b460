import { userInfo } from 'node:os';
import { causeChain, PlaybookError } from './errors.ts';

/** What a system call was doing, in an operator's words. */
const DOING: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the dir',
  rmdir: 'remove the dir',
  rename: 'move',
  link: 'link',
  unlink: 'remove',
  scandir: 'list',
  stat: 'look at',
  lstat: 'look at',
  copyfile: 'copy',
  chown: 'change the owner of',
  fsync: 'flush',
};

/** The user this process runs as, for messages about permissions. */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** The system error (errno code and syscall) in `error` or its causes. */
function systemErrorIn(error: unknown): NodeJS.ErrnoException | undefined {
  return [...causeChain(error)].find((cause): cause is NodeJS.ErrnoException => {
    const { code, syscall } = cause as NodeJS.ErrnoException;
    return typeof code === 'string' && typeof syscall === 'string';
  });
}

/**
 * A file system failure nothing else explained, as one `io` line naming the path, what was being done
 * and, for a permission, the user: "Permission denied: cannot create the dir /backups/x as user redis".
 * For a {@link PlaybookError} of kind `io` caused by a permission, the user is added to its message.
 * Undefined for anything else.
 */
export function explainSystemError(error: unknown): PlaybookError | undefined {
  const system = systemErrorIn(error);
  if (!system) return undefined;
  const denied = system.code === 'EACCES' || system.code === 'EPERM';
  if (error instanceof PlaybookError) {
    if (error.kind !== 'io' || !denied || error.message.includes(' as user ')) return undefined;
    return new PlaybookError('io', `${error.message} (as user ${currentUser()})`, {
      cause: error,
      ...(error.command ? { command: error.command } : {}),
    });
  }
  const path = system.path ?? (system as { dest?: string }).dest ?? '';
  const doing = `${DOING[system.syscall ?? ''] ?? system.syscall} ${path}`.trim();
  switch (system.code) {
    case 'EACCES':
    case 'EPERM':
      return new PlaybookError('io', `Permission denied: cannot ${doing} as user ${currentUser()}`, { cause: error });
    case 'EROFS':
      return new PlaybookError('io', `Cannot ${doing}: the file system is read-only`, { cause: error });
    case 'ENOSPC':
    case 'EDQUOT':
      return new PlaybookError('io', `Cannot ${doing}: no space left on the device`, { cause: error });
    case 'ENOENT':
      return new PlaybookError('io', `Cannot ${doing}: it does not exist`, { cause: error });
    case 'ENOTDIR':
      return new PlaybookError('io', `Cannot ${doing}: part of the path is not a dir`, { cause: error });
    case 'EISDIR':
      return new PlaybookError('io', `Cannot ${doing}: it is a dir`, { cause: error });
    default:
      return undefined;
  }
}
