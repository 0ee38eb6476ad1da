import { describe, expect, it } from 'vitest';
import { formatHour, hourParts, odataInstant, parseHour } from '../../functions/domain/hours.ts';

const at = (iso: string): number => Date.parse(iso);

describe('parseHour', () => {
  it.each([
    '2026-11-24T10:00:00Z',
    '2026-11-24T10:00Z',
    '2026-11-24T10Z',
    '2026-11-24T10:00:00.000Z',
    '2026-11-24T10:00:00+00:00',
    ' 2026-11-24T10:00:00Z\n',
  ])('reads %j as 10:00 UTC on 24 November 2026', (text) => {
    expect(parseHour(text)).toBe(at('2026-11-24T10:00:00Z'));
  });

  it('accepts 29 February in a leap year', () => {
    expect(parseHour('2028-02-29T00:00:00Z')).toBe(at('2028-02-29T00:00:00Z'));
  });

  it.each([
    ['not on the hour', '2026-11-24T10:30:00Z'],
    ['one second past', '2026-11-24T10:00:01Z'],
    ['a fraction past', '2026-11-24T10:00:00.5Z'],
    ['a day February never has', '2026-02-30T10:00:00Z'],
    ['29 February outside a leap year', '2026-02-29T10:00:00Z'],
    ['hour 24', '2026-11-24T24:00:00Z'],
    ['month 13', '2026-13-01T00:00:00Z'],
    ['no time zone', '2026-11-24T10:00:00'],
    ['another time zone', '2026-11-24T10:00:00+01:00'],
    ['a date without an hour', '2026-11-24'],
    ['a word', 'yesterday'],
    ['nothing', ''],
  ])('refuses %s (%j)', (_what, text) => {
    expect(parseHour(text)).toBeNull();
  });
});

describe('formatHour and odataInstant', () => {
  it('writes an hour as the state file and the execution input spell it', () => {
    expect(formatHour(at('2026-11-24T10:00:00Z'))).toBe('2026-11-24T10:00:00Z');
  });

  it('writes an OData literal without milliseconds when there are none', () => {
    expect(odataInstant(at('2026-11-24T11:00:00Z'))).toBe('2026-11-24T11:00:00Z');
  });

  it('keeps the milliseconds of an OData literal when there are some', () => {
    expect(odataInstant(at('2026-11-24T11:00:00.123Z'))).toBe('2026-11-24T11:00:00.123Z');
  });
});

describe('hourParts', () => {
  it('pads month, day and hour to two digits', () => {
    expect(hourParts(at('2027-01-05T03:00:00Z'))).toEqual({
      year: '2027',
      month: '01',
      day: '05',
      hour: '03',
    });
  });
});
