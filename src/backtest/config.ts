import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';
import { locateIssues, parseLocatedYaml } from '../core/source.js';
import {
  bindingMatches,
  type DetectorBinding,
  detectorBinding,
  parseSeriesName,
  validateBindingOptions,
} from '../detectors/binding.js';

/**
 * Reads the `detectors:` list of a config file and returns the binding for one series, with
 * every problem reported as `file:line path: message`. Stands in for the config loader
 * (src/config.ts) until that lands; it validates with the same schemas.
 */
export async function loadBindingForSeries(file: string, series: string): Promise<DetectorBinding> {
  const parsedName = parseSeriesName(series);
  if (!parsedName)
    throw new ConfigError(`--series ${JSON.stringify(series)} is not metric or metric{label="value"}`);
  const bindings = await loadBindings(file);
  const match = bindings.find((binding) => bindingMatches(binding, parsedName.metric, parsedName.labels));
  if (!match) throw new ConfigError(`${file}: no detectors binding matches series ${series}`);
  return match;
}

export async function loadBindings(file: string): Promise<DetectorBinding[]> {
  const doc = parseLocatedYaml(await readFile(file, 'utf8'), file);
  if (doc.syntaxErrors.length > 0) throw new ConfigError(`${file}: invalid YAML`, doc.syntaxErrors);
  const list = (doc.value as { detectors?: unknown } | undefined)?.detectors;
  if (!Array.isArray(list)) {
    throw new ConfigError(`${file}: invalid config`, [
      `${file}:${doc.lineOf(['detectors'])} detectors: expected a list`,
    ]);
  }
  const problems: string[] = [];
  const bindings: DetectorBinding[] = [];
  list.forEach((entry, index) => {
    const parsed = detectorBinding.safeParse(entry);
    if (!parsed.success) {
      problems.push(...locateIssues(parsed.error.issues, doc, detectorBinding, ['detectors', index]));
      return;
    }
    for (const problem of validateBindingOptions(parsed.data)) {
      problems.push(
        ...locateIssues(problem.issues, doc, problem.schema, ['detectors', index, ...problem.path]),
      );
    }
    bindings.push(parsed.data);
  });
  if (problems.length > 0) throw new ConfigError(`${file}: invalid detectors`, problems);
  return bindings;
}
