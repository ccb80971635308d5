import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';

/** util-linux's setpriv (Debian: essential package), which sets the parent-death signal and execs. */
const SETPRIV = '/usr/bin/setpriv';
/** Whether recorder processes can be tied to this process's life (Linux with setpriv). */
export const tieAvailable = process.platform === 'linux' && fs.existsSync(SETPRIV);

/**
 * Spawns `command` so that it gets SIGTERM when this process dies, however it dies (kill -9
 * included): Linux's parent-death signal (PR_SET_PDEATHSIG), set by setpriv, which then execs the
 * command (same pid; the signal survives the exec). FFmpeg ends its file on SIGTERM as on SIGINT.
 * Without setpriv (not Linux) the command runs untied (see `tieAvailable`).
 */
export function spawnTied(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  if (!tieAvailable) return spawn(command, args, options);
  return spawn(SETPRIV, ['--pdeathsig', 'TERM', '--', command, ...args], options);
}
