// Keeps one service process running: a crash is logged and the process started again after a
// backoff; a service that keeps crashing soon after each start is given up on (the caller decides
// what then). Used by startPlatform (`npm start`) and reusable by other launchers.

const DEFAULTS = { maxFastCrashes: 5, fastCrashMs: 30_000, backoffMs: 500, maxBackoffMs: 10_000 };

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export function stopProcess(child, graceMs = 5000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * @param {string} name
 * @param {() => import('node:child_process').ChildProcess} spawnChild starts one run of the service
 * @param {import('./supervise.d.mts').SuperviseOptions} [options] `child`: a run started already
 * @returns {import('./supervise.d.mts').SupervisedService}
 */
export function superviseService(name, spawnChild, options = {}) {
  const { maxFastCrashes, fastCrashMs, backoffMs, maxBackoffMs } = { ...DEFAULTS, ...options };
  let child = options.child ?? spawnChild();
  let startedAt = Date.now();
  let restarts = 0;
  let fastCrashes = 0;
  let state = 'running'; // 'running' | 'restarting' | 'given-up' | 'stopped'
  let timer;
  const say = (levelValue, msg) => options.onLog?.({ service: name, level: levelValue >= 50 ? 'error' : levelValue >= 40 ? 'warn' : 'info', levelValue, msg });

  const watch = (run) => {
    run.once('exit', (code, signal) => {
      if (state !== 'running' || run !== child) return;
      const ranMs = Date.now() - startedAt;
      fastCrashes = ranMs < fastCrashMs ? fastCrashes + 1 : 0;
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      if (fastCrashes > maxFastCrashes) {
        state = 'given-up';
        say(50, `${name} exited (${how}) ${fastCrashes} times in a row within ${fastCrashMs / 1000} s of starting; not restarting it`);
        options.onGiveUp?.({ code, signal });
        return;
      }
      const delay = Math.min(maxBackoffMs, backoffMs * 2 ** Math.max(0, fastCrashes - 1));
      state = 'restarting';
      say(40, `${name} exited unexpectedly (${how}) after ${(ranMs / 1000).toFixed(1)} s; restarting it in ${delay} ms`);
      timer = setTimeout(() => {
        if (state !== 'restarting') return;
        state = 'running';
        restarts++;
        startedAt = Date.now();
        child = spawnChild();
        watch(child);
        say(30, `${name} restarted (pid ${child.pid}, restart ${restarts})`);
        options.onRestart?.(child);
      }, delay);
    });
  };
  watch(child);

  return {
    name,
    get child() {
      return child;
    },
    get restarts() {
      return restarts;
    },
    get state() {
      return state;
    },
    async stop(graceMs) {
      if (state === 'stopped') return;
      state = 'stopped';
      clearTimeout(timer);
      await stopProcess(child, graceMs);
    },
  };
}
