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
  return { variable, read: (env) => envText(env, variable)?.split(',').map((item) => item.trim()).filter(Boolean) };
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
export function readEnv<K extends string>(env: Env, sources: Readonly<Record<K, EnvSource>>): { input: Record<K, unknown>; variableOf: (field: string) => string | undefined } {
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
