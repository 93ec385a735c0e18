import { z } from 'zod';
import { parseDuration } from '../../core/duration.js';

/** A trailing window: the last `points` history entries, or the entries of the last `ms` milliseconds. */
export type WindowSpec = { readonly points: number } | { readonly ms: number };

/** `window: 28` (points) or `window: 28d` (a duration); always excludes the evaluated point. */
export const windowOption = z.union([z.number(), z.string()]).transform((raw, ctx): WindowSpec => {
  if (typeof raw === 'number') {
    if (Number.isInteger(raw) && raw >= 2) return { points: raw };
    ctx.addIssue({ code: 'custom', message: `expected a whole number of points >= 2, got ${raw}` });
    return z.NEVER;
  }
  const ms = parseDuration(raw);
  if (ms !== undefined && ms > 0) return { ms };
  ctx.addIssue({
    code: 'custom',
    message: `expected a point count or a duration like 6h or 28d, got ${JSON.stringify(raw)}`,
  });
  return z.NEVER;
});

/** Which way is bad: `down` alerts only on drops, `up` only on rises, `both` on either. */
export const direction = z.enum(['up', 'down', 'both']);
export type Direction = z.infer<typeof direction>;

/** How values print in reasons; `auto` = percent when the metric name says so (see format.ts). */
export const unit = z.enum(['auto', 'percent', 'number']);
export type Unit = z.infer<typeof unit>;

export const minHistory = (fallback: number) => z.number().int().min(0).default(fallback);
export const positive = (fallback: number) => z.number().positive().default(fallback);

/**
 * Spread floor, shared by the z family: spread = max(measured, min_spread, min_relative_spread × |center|).
 * It keeps z finite on flat series while a flat series that moves still scores as anomalous.
 */
export const spreadFloorOptions = {
  min_spread: z.number().positive().default(1e-9),
  min_relative_spread: z.number().min(0).default(1e-3),
};

export interface SpreadFloor {
  readonly min_spread: number;
  readonly min_relative_spread: number;
}

/** Applies the documented spread floor; the result is always > 0 because `min_spread` is. */
export function flooredSpread(spread: number, center: number, floor: SpreadFloor): number {
  return Math.max(spread, floor.min_spread, floor.min_relative_spread * Math.abs(center));
}
