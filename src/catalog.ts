import type { z } from 'zod';
import { collectorRegistry } from './collectors/index.js';
import type { Registry } from './core/plugin.js';
import { notifierRegistry } from './notify/index.js';

/**
 * Every plugin family vigil knows, in one place, so config validation and the daemon read
 * the same registries. Each family's own explicit registry lives in its folder's index.ts.
 */
type Validatable = { readonly kind: string; readonly options: z.ZodType };

export interface PluginCatalog {
  readonly collectors: Registry<Validatable>;
  readonly notifiers: Registry<Validatable>;
}

export const catalog: PluginCatalog = {
  collectors: collectorRegistry,
  notifiers: notifierRegistry,
};
