// Event timestamps: RFC 3339 strings or epoch milliseconds. Parsed by hand because Date.parse
// both accepts far more than RFC 3339 (V8 reads "March 7" as a date) and costs more than this
// on a path that sees every event.

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The value of `count` ASCII digits at `at`, or -1 when any of them is not a digit. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Milliseconds since the epoch of an RFC 3339 date-time (`2026-01-02T03:04:05.678Z`,
 * `...+02:00`; 't'/'z' and a space separator are accepted as RFC 3339 allows), or NaN when
 * `text` is not one. Fractions finer than a millisecond are truncated.
 */
export function parseRfc3339(text: string): number {
  const n = text.length;
  if (n < 20) return NaN;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return NaN;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return NaN;
  const sep = text.charCodeAt(10);
  if (sep !== 84 && sep !== 116 && sep !== 32) return NaN; // T, t, space
  const maxDay = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > maxDay) return NaN;
  let i = 19;
  let ms = 0;
  if (text.charCodeAt(i) === 46) {
    // '.': one or more fraction digits
    i++;
    const start = i;
    let scale = 100;
    for (; i < n; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      ms += d * scale;
      scale /= 10;
    }
    if (i === start) return NaN;
    ms = Math.floor(ms);
  }
  let offsetMinutes = 0;
  const zone = text.charCodeAt(i);
  if (zone === 90 || zone === 122) {
    // Z, z
    if (i + 1 !== n) return NaN;
  } else if (zone === 43 || zone === 45) {
    // + or -: ±HH:MM
    if (i + 6 !== n || text.charCodeAt(i + 3) !== 58) return NaN;
    const oh = digits(text, i + 1, 2);
    const om = digits(text, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMinutes = (oh * 60 + om) * (zone === 43 ? 1 : -1);
  } else {
    return NaN;
  }
  let utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC reads years 0..99 as 1900..1999.
  if (year < 100) utc = new Date(utc).setUTCFullYear(year);
  return utc - offsetMinutes * 60_000;
}
