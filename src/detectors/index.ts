import { createRegistry, type PluginDefinition } from '../core/plugin.js';
import { auto } from './auto.js';
import { ewma } from './ewma.js';
import { robustZscore } from './robust-zscore.js';
import { seasonalZscore } from './seasonal-zscore.js';
import { threshold } from './threshold.js';
import type { Detector, DetectorDeps } from './types.js';
import { zscore } from './zscore.js';

/** Any detector definition, with its options type erased (each kind parses its own options). */
export type AnyDetectorDefinition = PluginDefinition<unknown, Detector, DetectorDeps>;

/**
 * Every detector kind, listed explicitly (no self-registration). A test asserts that this list
 * equals the kind files in src/detectors (helpers live in src/detectors/lib/).
 */
export const detectorRegistry = createRegistry<AnyDetectorDefinition>('detector', [
  auto,
  zscore,
  robustZscore,
  seasonalZscore,
  ewma,
  threshold,
]);

/** The kind a binding without `use:` gets, and `vigil backtest` without `--detector`. */
export const DEFAULT_DETECTOR = 'auto';

/** Parses raw options with the kind's schema and creates the detector; throws on bad options. */
export function createDetector(kind: string, rawOptions: unknown, deps: DetectorDeps): Detector {
  const definition = detectorRegistry.get(kind);
  return definition.create(definition.options.parse(rawOptions ?? {}), deps);
}
