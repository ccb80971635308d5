/** The environment as a process sees it. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Where a configuration field comes from: an environment variable's name (its text, or nothing
 * when unset or empty), or a reader for the few fields that are not one variable's text.
 */
export type EnvSource = string | EnvReader;

export interface EnvReader {
  /** The variable named in error messages. */
  variable: string;
  read(env: Env): unknown;
}

/** A variable's text, or undefined when it is unset or empty (an empty value means "the default"). */
export function envText(env: Env, variable: string): string | undefined {
  const value = env[variable];
  return value === '' ? undefined : value;
}

/** A comma-separated list, blanks dropped. */
export function envList(variable: string): EnvReader {
  return {
    variable,
    read: (env) =>
      envText(env, variable)
        ?.split(',')
        .map((item) => item.trim())
        .filter(Boolean),
  };
}

/** `true` or `false`; unset means the schema's default, and any other text is left for the schema to refuse. */
export function envFlag(variable: string): EnvReader {
  return {
    variable,
    read: (env) => {
      const value = envText(env, variable);
      return value === 'true' ? true : value === 'false' ? false : value;
    },
  };
}

/**
 * The raw input of a configuration schema, read from the environment field by field; the schema
 * (zod: coercion, defaults, checks) turns it into the configuration. `variableOf` maps a field
 * back to its variable, for errors that name what the operator must change.
 */
export function readEnv<K extends string>(
  env: Env,
  sources: Readonly<Record<K, EnvSource>>,
): { input: Record<K, unknown>; variableOf: (field: string) => string | undefined } {
  const input = {} as Record<K, unknown>;
  for (const field of Object.keys(sources) as K[]) {
    const source = sources[field];
    input[field] = typeof source === 'string' ? envText(env, source) : source.read(env);
  }
  const variableOf = (field: string): string | undefined => {
    if (!Object.hasOwn(sources, field)) return undefined;
    const source = sources[field as K];
    return typeof source === 'string' ? source : source.variable;
  };
  return { input, variableOf };
}

/** A configuration that cannot run: every problem at once, each naming what to change. */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(service: string, problems: string[]) {
    super(`invalid ${service} configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** What parses a configuration: a zod schema, or anything with the same `safeParse`. */
export interface ConfigSchema<T> {
  safeParse(
    input: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

/**
 * Parses a configuration or throws a ConfigError listing every problem; `variableOf` names a
 * field's environment variable in a problem, unless its message does already.
 */
export function parseConfigWith<T>(
  schema: ConfigSchema<T>,
  input: unknown,
  options: { service: string; variableOf?: ((field: string) => string | undefined) | undefined },
): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    options.service,
    result.error.issues.map((issue) => {
      const field = issue.path.map(String).join('.');
      const variable = issue.path.length > 0 ? options.variableOf?.(String(issue.path[0])) : undefined;
      const where = variable && !issue.message.includes(variable) ? `${variable} (${field})` : field || 'config';
      return `${where}: ${issue.message}`;
    }),
  );
}

/**
 * A service's entry point: its configuration, or every problem on stderr and exit 1 (the
 * operator's to fix, not a crash: no stack trace).
 */
export function configOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
