import type { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * The shape shared by collectors, detectors, remediations and notifiers: a kind, a one-line
 * summary, a strict options schema holding the defaults, and `create`, which validates and
 * compiles only (never touches the network).
 */
export interface PluginDefinition<Options, Instance, Deps> {
  /** kebab-case, equal to the file name. */
  readonly kind: string;
  readonly summary: string;
  readonly options: z.ZodType<Options>;
  create(options: Options, deps: Deps): Instance;
}

/** An explicit, read-only registry of plugin definitions keyed by kind. */
export interface Registry<Definition extends { readonly kind: string }> {
  readonly kinds: readonly string[];
  has(kind: string): boolean;
  /** Returns the definition or throws a ConfigError naming the known kinds. */
  get(kind: string): Definition;
  all(): readonly Definition[];
}

/** Builds a registry from an explicit list; duplicate kinds are a programming error. */
export function createRegistry<Definition extends { readonly kind: string }>(
  family: string,
  definitions: readonly Definition[],
): Registry<Definition> {
  const byKind = new Map<string, Definition>();
  for (const definition of definitions) {
    if (byKind.has(definition.kind)) throw new Error(`${family} kind "${definition.kind}" registered twice`);
    byKind.set(definition.kind, definition);
  }
  const kinds = [...byKind.keys()].sort();
  return {
    kinds,
    has: (kind) => byKind.has(kind),
    get(kind) {
      const definition = byKind.get(kind);
      if (definition) return definition;
      const known = kinds.length > 0 ? kinds.join(', ') : 'none yet';
      throw new ConfigError(`unknown ${family} kind "${kind}" (known: ${known})`, [], {
        code: 'unknown-kind',
      });
    },
    all: () => kinds.map((kind) => byKind.get(kind) as Definition),
  };
}
