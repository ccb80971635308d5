import { freePortRange } from '@telemed/test-kit';

/** `--quick`, `--name=value` and `--name value` flags of a benchmark's command line. */
export interface Args {
  quick: boolean;
  get(name: string): string | undefined;
  number(name: string, fallback: number): number;
}

export function parseArgs(argv: string[] = process.argv.slice(2)): Args {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq > 0) values.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (argv[i + 1] !== undefined && !argv[i + 1]?.startsWith('--')) values.set(arg.slice(2), argv[++i] ?? '');
    else values.set(arg.slice(2), 'true');
  }
  return {
    quick: values.get('quick') === 'true',
    get: (name) => values.get(name),
    number: (name, fallback) => {
      const value = values.get(name);
      return value === undefined ? fallback : Number(value);
    },
  };
}

/**
 * Starts on a block of `count` free consecutive ports (the platform needs fixed ones), trying a
 * new block a few times when something took one between the check and the bind.
 */
export async function withFreePorts<T>(count: number, start: (basePort: number) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const base = await freePortRange(count);
    try {
      return await start(base);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
