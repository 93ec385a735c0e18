import { readdirSync } from 'node:fs';

/** Kind files of a plugin folder: every `.ts` file except the registry and the contract (helpers live in lib/). */
export function kindFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => entry.name.replace(/\.ts$/, ''))
    .filter((name) => name !== 'index' && name !== 'types')
    .sort();
}
