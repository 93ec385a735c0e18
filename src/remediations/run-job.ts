import { z } from 'zod';
import { defineRemediation, isCalendarDate, isoDate, resourceName } from './types.js';

/** Runs a Cloud Run job over a date range, e.g. the grading backfill for the affected days. */
export const runJob = defineRemediation({
  kind: 'run-job',
  summary: 'Run a Cloud Run job (such as a backfill) for a date range',
  risk: 'low',
  params: z
    .strictObject({ job: resourceName, start_date: isoDate, end_date: isoDate })
    // ISO dates compare correctly as strings; invalid dates are already reported on their own.
    .refine(
      (p) => !isCalendarDate(p.start_date) || !isCalendarDate(p.end_date) || p.end_date >= p.start_date,
      {
        message: 'expected end_date on or after start_date',
        path: ['end_date'],
      },
    ),
  target: (params) => params.job,
});
