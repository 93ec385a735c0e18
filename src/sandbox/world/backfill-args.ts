/**
 * The grading-backfill job's command line: `--start-date YYYY-MM-DD --end-date YYYY-MM-DD`
 * (also `--flag=value`). Anything else fails the execution, as the real script would.
 */
export function parseBackfillArgs(args: readonly string[]): { start: string; end: string } {
  const values = new Map<string, string>();
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    if (flag !== '--start-date' && flag !== '--end-date')
      throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    const value = inline ?? args[++index];
    if (value === undefined) throw new Error(`${flag} needs a date`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
      throw new Error(`${flag} expects YYYY-MM-DD, got ${JSON.stringify(value)}`);
    }
    values.set(flag, value);
  }
  const start = values.get('--start-date');
  const end = values.get('--end-date');
  if (!start || !end) throw new Error('usage: --start-date YYYY-MM-DD --end-date YYYY-MM-DD');
  if (start > end) throw new Error(`--start-date ${start} is after --end-date ${end}`);
  return { start, end };
}
