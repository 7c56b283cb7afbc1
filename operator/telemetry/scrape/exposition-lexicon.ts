// The lexicon of the exposition format as the scanner reads it: metric types and the words
// that name them, the suffixes a sample may add to its family's name, the characters of names,
// numbers and the special float values. Character codes, because the scanner compares codes.

export const METRIC_TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

/** The dialect of a page, from its Content-Type: they differ in timestamp units and exemplars. */
export const EXPOSITION_FORMATS = ['prometheus', 'openmetrics'] as const;
export type ExpositionFormat = (typeof EXPOSITION_FORMATS)[number];

/** Suffixes a sample name may add to its family's name, by family type. */
export const SUFFIXES: Record<MetricType, readonly string[]> = {
  counter: ['_total', '_created'],
  gauge: [],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  summary: ['_count', '_sum', '_created'],
  untyped: [],
};
export const ALL_SUFFIXES = ['_bucket', '_count', '_sum', '_total', '_created'] as const;

/** OpenMetrics types outside the four classic ones are read as untyped: their samples stay usable. */
export const TYPE_WORDS: Record<string, MetricType> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'untyped',
  unknown: 'untyped',
  gaugehistogram: 'untyped',
  info: 'untyped',
  stateset: 'untyped',
};

const SPECIAL_VALUES: Record<string, number> = {
  nan: NaN,
  inf: Infinity,
  '+inf': Infinity,
  '-inf': -Infinity,
  infinity: Infinity,
  '+infinity': Infinity,
  '-infinity': -Infinity,
};

export const SPACE = 0x20;
export const TAB = 0x09;
export const CR = 0x0d;
export const HASH = 0x23;
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const COMMA = 0x2c;
export const EQUALS = 0x3d;

export function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** [a-zA-Z_] plus ':' for metric names. */
export function isNameStart(c: number, colon: boolean): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (colon && c === 0x3a);
}

export function isNameChar(c: number, colon: boolean): boolean {
  return isNameStart(c, colon) || (c >= 0x30 && c <= 0x39);
}

/** Digits, sign, point and exponent: what a decimal float is made of (Number() alone also takes hex, binary, ...). */
function isDecimalChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2b || c === 0x2d || c === 0x65 || c === 0x45;
}

/** A float as Go's strconv.ParseFloat reads the decimal forms and the special values; undefined if it is not one. */
export function parseFloatToken(token: string): number | undefined {
  let decimal = token.length > 0;
  for (let i = 0; i < token.length && decimal; i++) decimal = isDecimalChar(token.charCodeAt(i));
  if (decimal) {
    const n = Number(token);
    return Number.isNaN(n) ? undefined : n;
  }
  return SPECIAL_VALUES[token.toLowerCase()];
}

/** `text` quoted for an error message, cut to 80 characters. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
