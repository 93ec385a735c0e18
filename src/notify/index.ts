import { createRegistry, type Registry } from '../core/plugin.js';
import { consoleNotifier } from './console.js';
import { slackNotifier } from './slack.js';
import type { NotifierDefinition } from './types.js';

/** Every notifier kind, explicitly (the folder listing equals this list: a test checks it). */
export const notifierRegistry: Registry<NotifierDefinition> = createRegistry<NotifierDefinition>('notifier', [
  consoleNotifier as NotifierDefinition,
  slackNotifier as NotifierDefinition,
]);
