/**
 * `${VAR}` and `${VAR:-default}` interpolation over every string in a parsed YAML value.
 * `$${` escapes a literal `${`. An unset variable without a default is a problem located at
 * the string that referenced it, never an empty string that silently changes meaning.
 */
export interface InterpolationProblem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolate(
  value: unknown,
  env: Environment,
  problems: InterpolationProblem[],
  path: readonly PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') return interpolateString(value, env, problems, path);
  if (Array.isArray(value))
    return value.map((item, index) => interpolate(item, env, problems, [...path, index]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      out[key] = interpolate(item, env, problems, [...path, key]);
    return out;
  }
  return value;
}

function interpolateString(
  text: string,
  env: Environment,
  problems: InterpolationProblem[],
  path: readonly PropertyKey[],
): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const key = name as string;
    const set = env[key];
    if (set !== undefined && set !== '') return set;
    if (fallback !== undefined) return fallback;
    problems.push({
      path,
      message: `environment variable ${key} is not set and has no default (write \${${key}:-default})`,
    });
    return '';
  });
}
