// A system daemon the deployment tests run (Caddy, coturn): started, its output kept, ready once
// its TCP port accepts connections. In a network namespace of the test bed (netbed/netns.ts) when
// `netns` is given: started there with `ip netns exec`, ready once a socket listens on the port there.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { WaitAborted, waitFor } from '@telemed/test-kit';
import { inNamespace, run } from '../network/netns.js';
import { stopProcess } from '../../../scripts/platform.mjs';

export interface Daemon {
  process: ChildProcess;
  port: number;
  output(): string;
  stop(): Promise<void>;
}

export async function startDaemon(options: {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  port: number;
  timeoutMs?: number;
  netns?: string;
}): Promise<Daemon> {
  const child = spawn(...inNamespace(options.netns, options.command, options.args), {
    ...(options.env ? { env: options.env } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  try {
    await waitFor(
      `${options.name} listening on port ${options.port}`,
      async () => {
        if (child.exitCode !== null) throw new WaitAborted(`${options.name} exited (${child.exitCode})`);
        return options.netns ? listeningIn(options.netns, options.port) : listening(options.port);
      },
      options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {},
    );
  } catch (error) {
    await stopProcess(child);
    throw new Error(`${options.name} did not start: ${(error as Error).message}\n${output.slice(-3000)}`);
  }
  return { process: child, port: options.port, output: () => output, stop: () => stopProcess(child) };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A TCP socket listens on `port` inside the namespace. */
function listeningIn(netns: string, port: number): boolean {
  try {
    return run(netns, 'ss', ['-Hltn', `sport = :${port}`]).trim() !== '';
  } catch {
    return false;
  }
}
