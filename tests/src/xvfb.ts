// A private X display for browsers that must run headful (screen capture needs a real window and a
// user gesture; WebKitGTK's MiniBrowser has no headless mode). Xvfb picks a free display number
// itself (-displayfd), so parallel test files never collide.
import { spawn, type ChildProcess } from 'node:child_process';

export interface VirtualDisplay {
  /** The DISPLAY value, e.g. ":99". */
  readonly display: string;
  stop(): Promise<void>;
}

export async function startXvfb(screen = '1280x720x24', timeoutMs = 10_000): Promise<VirtualDisplay> {
  const child = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', screen, '-nolisten', 'tcp', '-noreset'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`Xvfb did not report a display within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.once('error', (error) => fail(new Error(`could not start Xvfb (apt-get install xvfb): ${error.message}`)));
    child.once('exit', (code) => fail(new Error(`Xvfb exited with ${code}: ${stderr}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^(\d+)\n/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve(`:${match[1]}`);
    });
  });
  child.removeAllListeners('exit');
  return { display, stop: () => stopProcess(child) };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. Idempotent. */
export function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
