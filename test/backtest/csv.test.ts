import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  csvField,
  parseTimestamp,
  parseValue,
  type RowBatch,
  readSeriesCsv,
} from '../../src/backtest/csv.js';

async function read(text: string): Promise<{ timestamps: number[]; values: number[]; texts: string[] }> {
  const out = { timestamps: [] as number[], values: [] as number[], texts: [] as string[] };
  await readSeriesCsv(Readable.from([text]), (batch: RowBatch) => {
    out.timestamps.push(...batch.timestamps.subarray(0, batch.length));
    out.values.push(...batch.values.subarray(0, batch.length));
    out.texts.push(...batch.timestampTexts);
  });
  return out;
}

describe('readSeriesCsv', () => {
  it('reads CRLF input, both timestamp forms, and missing values as NaN or Infinity', async () => {
    const rows = await read(
      'timestamp,value\r\n2026-01-05 00:00:00,1.5\r\n2026-01-05T01:00:00Z,\r\n2026-01-05T02:00:00+01:00,null\r\n2026-01-05 03:00:00,Infinity\r\n',
    );

    expect(rows.texts).toEqual([
      '2026-01-05 00:00:00',
      '2026-01-05T01:00:00Z',
      '2026-01-05T02:00:00+01:00',
      '2026-01-05 03:00:00',
    ]);
    expect(rows.timestamps).toEqual([
      Date.UTC(2026, 0, 5, 0),
      Date.UTC(2026, 0, 5, 1),
      Date.UTC(2026, 0, 5, 1),
      Date.UTC(2026, 0, 5, 3),
    ]);
    expect(rows.values).toEqual([1.5, Number.NaN, Number.NaN, Infinity]);
  });

  it('reads rows split across chunks', async () => {
    const chunks = ['timestamp,va', 'lue\n2026-01-05 00:0', '0:00,1\n2026-01-05 01:00:00,2'];
    const values: number[] = [];

    await readSeriesCsv(Readable.from(chunks), (batch) => {
      values.push(...batch.values.subarray(0, batch.length));
    });

    expect(values).toEqual([1, 2]);
  });

  it.each([
    ['time,value\n', 'line 1: expected the header timestamp,value, got "time,value"'],
    ['', 'line 1: empty input: expected the header timestamp,value'],
    [
      'timestamp,value\n2026-01-05 00:00:00,1\nyesterday,2\n',
      'line 3: timestamp "yesterday" is not ISO-8601, YYYY-MM-DD HH:MM:SS or YYYY-MM-DD',
    ],
    ['timestamp,value\n2026-01-05 00:00:00,abc\n', 'line 2: value "abc" is not a number'],
    [
      'timestamp,value\n2026-01-05 00:00:00\n',
      'line 2: expected 2 columns (timestamp,value), got 1: "2026-01-05 00:00:00"',
    ],
    [
      'timestamp,value\r\n2026-01-05 00:00:00,1\r\n2026-01-05 1:00:00,2\r\n',
      'line 3: timestamp "2026-01-05 1:00:00" is not ISO-8601, YYYY-MM-DD HH:MM:SS or YYYY-MM-DD',
    ],
    [
      'timestamp,value\r\n2026-01-05 00:00:00,1\r\n2026-02-30 25:00:00,2\r\n',
      'line 3: timestamp "2026-02-30 25:00:00" is not ISO-8601, YYYY-MM-DD HH:MM:SS or YYYY-MM-DD',
    ],
  ])('rejects %j with a located message', async (text, message) => {
    await expect(read(text)).rejects.toThrow(message);
  });

  it('hands rows on in input order when timestamps repeat or go back; --strict rejects them', async () => {
    const text = 'timestamp,value\n2026-01-05 01:00:00,1\n2026-01-05 01:00:00,2\n2026-01-05 00:00:00,3\n';
    expect((await read(text)).values).toEqual([1, 2, 3]);
    await expect(readSeriesCsv(Readable.from([text]), () => {}, { strict: true })).rejects.toThrow(
      'line 3: timestamp 2026-01-05 01:00:00 repeats the row before (--strict)',
    );
  });

  it('reports every bad row with its line at once; up to maxBadRows are skipped', async () => {
    const text = 'timestamp,value\n2026-01-05,1\nyesterday,2\n2026-01-07,x\n2026-01-08,4\n';
    const error = await readSeriesCsv(Readable.from([text]), () => {}).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe('2 bad rows (at most 0 allowed, --max-bad-rows)');
    expect((error as { problems: string[] }).problems).toEqual([
      'line 3: timestamp "yesterday" is not ISO-8601, YYYY-MM-DD HH:MM:SS or YYYY-MM-DD',
      'line 4: value "x" is not a number',
    ]);
    const values: number[] = [];
    const result = await readSeriesCsv(
      Readable.from([text]),
      (batch) => {
        values.push(...batch.values.subarray(0, batch.length));
      },
      { maxBadRows: 2 },
    );
    expect(values).toEqual([1, 4]);
    expect(result.badRows.map((row) => row.line)).toEqual([3, 4]);
  });
});

describe('csv helpers', () => {
  it.each([
    ['2026-01-05 00:00:00', Date.UTC(2026, 0, 5)],
    ['2026-01-05T00:00:00.250Z', Date.UTC(2026, 0, 5) + 250],
    ['2026-01-05T00:00', Date.UTC(2026, 0, 5)],
    ['2026-13-05 00:00:00', Number.NaN],
    ['2026-01-05', Date.UTC(2026, 0, 5)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2026-02-29', Number.NaN],
    ['2026-1-055', Number.NaN],
  ])('parseTimestamp(%j)', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it.each([
    ['2024-02-29 12:00:00', Date.UTC(2024, 1, 29, 12)],
    ['2000-02-29T23:59:59Z', Date.UTC(2000, 1, 29, 23, 59, 59)],
    ['2026-01-05T02:00:00+01:00', Date.UTC(2026, 0, 5, 1)],
    ['2026-01-05T02:00:00-0130', Date.UTC(2026, 0, 5, 3, 30)],
    ['2026-01-05T02:00+01:00', Date.UTC(2026, 0, 5, 1)],
    ['2026-01-05 00:00:00.5', Date.UTC(2026, 0, 5) + 500],
    ['2026-01-05T00:00:00.12Z', Date.UTC(2026, 0, 5) + 120],
    ['2026-01-05T00:00:00.123456+00:00', Date.UTC(2026, 0, 5) + 123],
    ['1969-12-31 23:59:59', -1000],
  ])('parseTimestamp(%j) reads offsets, fractions and leap days', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  it.each([
    '2026-01-05 24:00:00',
    '2026-01-05 23:60:00',
    '2026-01-05 23:00:61',
    '2026-00-05 00:00:00',
    '2026-01-32 00:00:00',
    '2026-01-00 00:00:00',
    '2026-1-05 00:00:00',
    '2026/01/05 00:00:00',
    '2026-01-05X00:00:00',
    '2026-01-05 00:00:00.',
    '2026-01-05 00:00.5',
    '2026-01-05 00:00:00 ',
    '2026-01-05 00:00:00z',
    '2026-01-05 00:00:00+1',
    '2026-01-05 00:00:00+01:0',
    '2026-01-05 00:00:00+01:00Z',
    '２０２６-01-05 00:00:00',
  ])('parseTimestamp(%j) is NaN', (text) => {
    expect(parseTimestamp(text)).toBeNaN();
  });

  // The regex parser this one replaced, kept as the specification: same accepted texts, same
  // epoch ms — except that a day past the month's end (2026-02-30) is now rejected instead of
  // rolling over; second 60 (a leap second) still rolls over as Date.UTC does.
  const REFERENCE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
  function daysInMonth(year: number, month: number): number {
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] as number;
  }
  function referenceTimestamp(text: string): number {
    const m = REFERENCE.exec(text);
    if (!m) return Number.NaN;
    const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i]));
    const second = m[6] === undefined ? 0 : Number(m[6]);
    const fraction = m[7] === undefined ? 0 : Math.round(Number(m[7]) * 1000);
    if (
      (month as number) < 1 ||
      (month as number) > 12 ||
      (day as number) < 1 ||
      (day as number) > 31 ||
      (hour as number) > 23 ||
      (minute as number) > 59 ||
      second > 60 ||
      (day as number) > daysInMonth(year as number, month as number)
    )
      return Number.NaN;
    let ms = Date.UTC(year as number, (month as number) - 1, day, hour, minute, second, fraction);
    const zone = m[8];
    if (zone !== undefined && zone !== 'Z') {
      const digits = zone.slice(1).replace(':', '');
      ms -= (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
    return ms;
  }

  it.each(['2026-02-30 00:00:00', '2023-02-29 00:00:00', '2026-04-31T10:00:00Z'])(
    'parseTimestamp(%j) rejects a day past the end of its month',
    (text) => {
      expect(parseTimestamp(text)).toBeNaN();
    },
  );

  it.each(['2024-02-29 00:00:00', '2026-01-05 23:59:60', '0099-01-01 00:00:00'])(
    'parseTimestamp(%j) accepts leap days, a leap second and early years',
    (text) => {
      expect(parseTimestamp(text)).toBe(referenceTimestamp(text));
      expect(parseTimestamp(text)).not.toBeNaN();
    },
  );

  it('parseTimestamp agrees with the previous regex parser on generated texts', () => {
    // Mostly in range, sometimes one past either edge.
    const two = (max: number) => fc.integer({ min: 0, max: max + 1 }).map((n) => String(n).padStart(2, '0'));
    const valid = fc
      .record({
        year: fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
        month: two(12),
        day: two(31),
        sep: fc.constantFrom('T', ' '),
        hour: two(23),
        minute: two(59),
        second: fc.option(two(60)),
        fraction: fc.option(fc.stringMatching(/^\.\d{1,7}$/)),
        zone: fc.constantFrom('', 'Z', '+01:00', '-0530', '+14:00', '-00:00', '+99:99'),
      })
      .map(
        (p) =>
          `${p.year}-${p.month}-${p.day}${p.sep}${p.hour}:${p.minute}` +
          (p.second === null ? '' : `:${p.second}${p.fraction ?? ''}`) +
          p.zone,
      );
    // Mutations of valid texts: a character dropped, replaced or added.
    const mutated = fc
      .tuple(valid, fc.nat(), fc.constantFrom('', '0', ':', '-', 'T', ' ', '.', 'Z', '+', 'x'))
      .map(([text, at, insert]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i + (insert === '' || at % 2 === 0 ? 1 : 0));
      });
    fc.assert(
      fc.property(fc.oneof(valid, mutated), (text) => {
        expect(parseTimestamp(text)).toBe(referenceTimestamp(text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('parseValue separates missing from junk', () => {
    expect([parseValue(' 2.5 '), parseValue('NaN'), parseValue('-inf'), parseValue('x')]).toEqual([
      2.5,
      Number.NaN,
      -Infinity,
      undefined,
    ]);
  });

  it('csvField quotes only when needed', () => {
    expect([csvField('plain'), csvField('a, b'), csvField('say "hi"')]).toEqual([
      'plain',
      '"a, b"',
      '"say ""hi"""',
    ]);
  });
});
