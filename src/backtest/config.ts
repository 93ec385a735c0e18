import { loadConfig } from '../config.js';
import { ConfigError } from '../core/errors.js';
import { bindingMatches, type DetectorBinding, parseSeriesName } from '../detectors/binding.js';

/**
 * The detector binding a config file gives one series (`metric` or `metric{label="value"}`),
 * read through the daemon's own config loader so backtests judge exactly as `vigil run` does.
 */
export async function loadBindingForSeries(file: string, series: string): Promise<DetectorBinding> {
  const parsedName = parseSeriesName(series);
  if (!parsedName)
    throw new ConfigError(`--series ${JSON.stringify(series)} is not metric or metric{label="value"}`);
  const { detectors } = await loadConfig(file);
  const match = detectors.find((binding) => bindingMatches(binding, parsedName.metric, parsedName.labels));
  if (!match) throw new ConfigError(`${file}: no detectors binding matches series ${series}`);
  return match;
}
