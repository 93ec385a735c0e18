import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../core/errors.js';
import { formatPath, type LocatedDocument, locateIssues, parseLocatedYaml } from '../../core/source.js';
import { type Scenario, scenario } from './schema.js';

/** The scenario shipped with vigil: the seed incident replayed day by day. */
export const SEED_SCENARIO_PATH = fileURLToPath(new URL('../scenarios/seed-incident.yaml', import.meta.url));

/** Reads and validates a scenario file; every problem is reported as `file:line path: message`. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read scenario file ${path}`, [], {
      cause: error,
      code: 'scenario-unreadable',
    });
  }
  return parseScenario(text, path);
}

/** Validates scenario text (tests write their own scenarios inline). */
export function parseScenario(text: string, file = '<scenario>'): Scenario {
  const doc = parseLocatedYaml(text, file);
  if (doc.syntaxErrors.length > 0) throw invalid(file, doc.syntaxErrors);
  const parsed = scenario.safeParse(doc.value);
  if (!parsed.success) throw invalid(file, locateIssues(parsed.error.issues, doc, scenario));
  const problems = crossCheck(parsed.data, doc);
  if (problems.length > 0) throw invalid(file, problems);
  return parsed.data;
}

function invalid(file: string, problems: readonly string[]): ConfigError {
  return new ConfigError(`invalid scenario ${file}:\n  ${problems.join('\n  ')}`, problems, {
    code: 'scenario-invalid',
  });
}

/** References between sections, which a per-field schema cannot see. */
function crossCheck(value: Scenario, doc: LocatedDocument): string[] {
  const problems: string[] = [];
  const services = new Set(Object.keys(value.services));
  const at = (path: PropertyKey[], message: string) =>
    problems.push(`${doc.file}:${doc.lineOf(path)} ${formatPath(path)}: ${message}`);
  if (!services.has(value.vegas_line.service)) {
    at(['vegas_line', 'service'], `unknown service "${value.vegas_line.service}"`);
  }
  if (!services.has(value.predictions.worker_service)) {
    at(['predictions', 'worker_service'], `unknown service "${value.predictions.worker_service}"`);
  }
  value.events.forEach((event, index) => {
    const kind = 'deploy' in event ? 'deploy' : 'wedge' in event ? 'wedge' : 'pause';
    const target = 'deploy' in event ? event.deploy : 'wedge' in event ? event.wedge : event.pause;
    if (!services.has(target.service))
      at(['events', index, kind, 'service'], `unknown service "${target.service}"`);
  });
  value.grading.outages.forEach((outage, index) => {
    if (!(outage.model in value.models))
      at(['grading', 'outages', index, 'model'], `unknown model "${outage.model}"`);
    if (outage.to_day < outage.from_day)
      at(['grading', 'outages', index, 'to_day'], 'to_day is before from_day');
  });
  return problems;
}
