import fs from 'node:fs';
import path from 'node:path';

/**
 * The embedded database's directory is open in another live process. PGlite itself does not
 * stop a second process (or a second open in this one) from opening the same directory, and two
 * writers corrupt it.
 */
export class DatabaseInUseError extends Error {
  readonly pid: number;

  constructor(dir: string, pid: number) {
    super(
      `the embedded database ${dir} is open in process ${pid}${pid === process.pid ? ' (this one)' : ''}: stop the API first (or use PostgreSQL, which allows online backups)`,
    );
    this.name = 'DatabaseInUseError';
    this.pid = pid;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Directories this process holds (a lock file naming our pid but not listed here is a previous process's: containers reuse pid 1). */
const held = new Set<string>();

/**
 * Takes `<dir>.lock` (beside the data directory, so it is never part of a dump) for this process;
 * a lock left by a process that has died is taken over. Returns the release function.
 */
export function lockDataDir(dir: string): () => void {
  const file = `${path.resolve(dir)}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      held.add(file);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
      const ours = pid === process.pid;
      if (Number.isInteger(pid) && pid > 0 && (ours ? held.has(file) : alive(pid))) throw new DatabaseInUseError(dir, pid);
      fs.rmSync(file, { force: true });
    }
  }
  return () => {
    held.delete(file);
    try {
      if (Number.parseInt(fs.readFileSync(file, 'utf8'), 10) === process.pid) fs.rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}
