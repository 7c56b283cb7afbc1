import { describe, expect, it } from '@jest/globals';
import { DURATION_PATTERN, MAX_DURATION_MS, formatDuration, durationInWords, isDuration, parseDuration } from '../../../operator/base/duration.ts';
import { ConfigError } from '../../../operator/base/errors.ts';

describe('parseDuration', () => {
  it.each([
    ['0s', 0],
    ['250ms', 250],
    ['2s', 2000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1h2m3s4ms', 3_723_004],
    ['90s', 90_000],
    ['1s1s', 2000],
    ['99999h', 99_999 * 3_600_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(isDuration(text)).toBe(true);
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '1', '1d', '1.5s', '-1s', '100000s', '1h1m1s1ms1h', ' 1s', '1S', '1us'])('refuses %j with a ConfigError', (text) => {
    expect(isDuration(text)).toBe(false);
    expect(() => parseDuration(text)).toThrow(ConfigError);
  });

  it('uses the pattern the CRDs carry', () => {
    expect(DURATION_PATTERN).toBe('^([0-9]{1,5}(h|m|s|ms)){1,4}$');
  });

  it('names the field it was given, so that every caller reports the same way', () => {
    expect(() => parseDuration('90', 'spec.timeout.max')).toThrow(/^spec\.timeout\.max: invalid duration "90"/);
    expect(() => parseDuration('90')).toThrow(/^invalid duration "90"/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [1500, '1s500ms'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [3_723_004, '1h2m3s4ms'],
    [0.4, '0s'],
    [999.6, '1s'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 59_999, 60_000, 3_599_999, 86_400_000, MAX_DURATION_MS]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
      expect(isDuration(formatDuration(ms))).toBe(true);
    }
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, MAX_DURATION_MS + 1])('refuses %d with a RangeError', (ms) => {
    expect(() => formatDuration(ms)).toThrow(RangeError);
  });
});

describe('durationInWords', () => {
  it.each([
    [250, '250 ms'],
    [1989, '1.99 s'],
    [2000, '2 s'],
    [125_000, '2 min 5 s'],
    [120_000, '2 min'],
    [4_800_000, '1 h 20 min'],
  ])('writes %d ms for people as %s', (ms, text) => {
    expect(durationInWords(ms)).toBe(text);
  });
});
