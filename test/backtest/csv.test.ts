import { Readable } from 'node:stream';
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
      'line 3: timestamp "yesterday" is not ISO-8601 or YYYY-MM-DD HH:MM:SS',
    ],
    ['timestamp,value\n2026-01-05 00:00:00,abc\n', 'line 2: value "abc" is not a number'],
    [
      'timestamp,value\n2026-01-05 00:00:00\n',
      'line 2: expected 2 columns (timestamp,value), got 1: "2026-01-05 00:00:00"',
    ],
    [
      'timestamp,value\n2026-01-05 01:00:00,1\n2026-01-05 00:00:00,1\n',
      'line 3: timestamp 2026-01-05 00:00:00 is earlier than the row before',
    ],
  ])('rejects %j with a located message', async (text, message) => {
    await expect(read(text)).rejects.toThrow(message);
  });
});

describe('csv helpers', () => {
  it.each([
    ['2026-01-05 00:00:00', Date.UTC(2026, 0, 5)],
    ['2026-01-05T00:00:00.250Z', Date.UTC(2026, 0, 5) + 250],
    ['2026-01-05T00:00', Date.UTC(2026, 0, 5)],
    ['2026-13-05 00:00:00', Number.NaN],
  ])('parseTimestamp(%j)', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
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
