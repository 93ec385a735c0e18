/**
 * Simulated days. Day N is `start_date + N`; while the sandbox is "at" day N its clock reads
 * N at 12:00 UTC: the morning pipeline (commits, deploys, features, predictions, grading of
 * earlier dates) has run, the evening games have not.
 */
export const DAY_MS = 86_400_000;
export const NOON_MS = 12 * 3_600_000;

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export function dateToMs(date: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new RangeError(`not a date: ${date}`);
  return ms;
}

export function msToDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export class Calendar {
  private readonly startMs: number;

  constructor(readonly startDate: string) {
    this.startMs = dateToMs(startDate);
  }

  dateOf(day: number): string {
    return msToDate(this.startMs + day * DAY_MS);
  }

  /** Day number of a date; throws when the date is not a whole day after the start. */
  dayOf(date: string): number {
    return Math.round((dateToMs(date) - this.startMs) / DAY_MS);
  }

  /** Epoch ms of `hour:minute` UTC on a day. */
  at(day: number, hour: number, minute = 0): number {
    return this.startMs + day * DAY_MS + hour * 3_600_000 + minute * 60_000;
  }

  /** The simulated "now" while the sandbox sits at `day`. */
  noon(day: number): number {
    return this.startMs + day * DAY_MS + NOON_MS;
  }

  weekday(day: number): Weekday {
    return WEEKDAYS[new Date(this.startMs + day * DAY_MS).getUTCDay()] as Weekday;
  }

  /** Accepts a day number, a numeric string, or a YYYY-MM-DD date. */
  resolve(dayOrDate: number | string): number {
    if (typeof dayOrDate === 'number') return dayOrDate;
    if (/^\d+$/.test(dayOrDate)) return Number(dayOrDate);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(dayOrDate))
      throw new RangeError(`expected a day number or YYYY-MM-DD, got ${dayOrDate}`);
    return this.dayOf(dayOrDate);
  }
}
