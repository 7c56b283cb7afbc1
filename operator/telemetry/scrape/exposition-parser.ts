// A parser for the Prometheus text exposition format 0.0.4, and the OpenMetrics text subset
// that Prometheus targets commonly serve (`# EOF`, `# UNIT`, `_created` series, exemplars).
// It reads a whole /metrics page into metric families and refuses the page at the first line
// it cannot read, naming the line and what is wrong: a page that is half understood would
// give rates computed from a different set of series at every scrape.
//
// It scans characters instead of matching regular expressions per line, because an Envoy
// /stats/prometheus page runs to several MB and is read on every scrape interval.
import { ERROR_CODES, MeshpilotError } from '../../base/errors.ts';
import { METRIC_TYPES, SUFFIXES, ALL_SUFFIXES, TYPE_WORDS, CR, HASH, QUOTE, BACKSLASH, OPEN_BRACE, CLOSE_BRACE, COMMA, EQUALS, isBlank, isNameStart, isNameChar, parseFloatToken, quote, type ExpositionFormat, type MetricType } from './exposition-lexicon.ts';

/** Label name to value; a prototype-less object, so any label name is safe as a key. */
export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  /** The sample's own name (`foo_bucket`, `foo_total`, ...), not its family's. */
  name: string;
  labels: Labels;
  /** May be NaN or ±Infinity: the format allows them, and callers decide what they mean. */
  value: number;
  /** Milliseconds since the epoch, when the line carries a timestamp. */
  timestampMs: number | undefined;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string | undefined;
  samples: Sample[];
}

/** A page that is not the text format; `line` is 1-based. */
export class ExpositionParseError extends MeshpilotError {
  readonly line: number;

  constructor(line: number, message: string) {
    // Retriable: the next scrape may well read a good page.
    super(ERROR_CODES.INTERNAL, `line ${line}: ${message}`, { retriable: true });
    this.name = 'ExpositionParseError';
    this.line = line;
  }
}

/** Parses one page; mutable state lives here so that the exported function stays re-entrant. */
class Parser {
  readonly #text: string;
  readonly #openMetrics: boolean;
  readonly families = new Map<string, MetricFamily>();
  /** Sample name -> its family, so each distinct name resolves once. */
  readonly #bySampleName = new Map<string, MetricFamily | null>();
  /** Families that already have samples: a TYPE or HELP for them now comes too late or twice. */
  readonly #typed = new Set<string>();
  readonly #helped = new Set<string>();
  #line = 0;
  #eof = false;
  /** Index of the next backslash at or after the last label value read; -1: none in the rest of the page. */
  #slashAt = -2;
  // The line being parsed: [#pos, #end) of #text.
  #pos = 0;
  #end = 0;

  constructor(text: string, format: ExpositionFormat) {
    this.#text = text;
    this.#openMetrics = format === 'openmetrics';
  }

  parse(): Map<string, MetricFamily> {
    const text = this.#text;
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      this.#line += 1;
      this.#pos = start;
      this.#end = end > start && text.charCodeAt(end - 1) === CR ? end - 1 : end;
      this.#parseLine();
      start = end + 1;
    }
    return this.families;
  }

  #fail(message: string): never {
    throw new ExpositionParseError(this.#line, message);
  }

  #lineText(): string {
    return this.#text.slice(this.#pos, this.#end);
  }

  #skipBlanks(): void {
    while (this.#pos < this.#end && isBlank(this.#text.charCodeAt(this.#pos))) this.#pos += 1;
  }

  /** The next run of non-blank characters ('' at the end of the line). */
  #token(): string {
    this.#skipBlanks();
    const start = this.#pos;
    while (this.#pos < this.#end && !isBlank(this.#text.charCodeAt(this.#pos))) this.#pos += 1;
    return this.#text.slice(start, this.#pos);
  }

  #name(colon: boolean, what: string): string {
    const text = this.#text;
    const start = this.#pos;
    if (start >= this.#end || !isNameStart(text.charCodeAt(start), colon)) {
      this.#fail(`expected a ${what} at column ${start - this.#lineStart() + 1}, found ${quote(text.slice(start, this.#end) || 'end of line')}`);
    }
    let i = start + 1;
    while (i < this.#end && isNameChar(text.charCodeAt(i), colon)) i += 1;
    this.#pos = i;
    return text.slice(start, i);
  }

  #lineStart(): number {
    const nl = this.#text.lastIndexOf('\n', this.#pos - 1);
    return nl + 1;
  }

  #parseLine(): void {
    this.#skipBlanks();
    if (this.#pos >= this.#end) return;
    if (this.#eof) this.#fail(`content after "# EOF": ${quote(this.#lineText())}`);
    if (this.#text.charCodeAt(this.#pos) === HASH) {
      this.#parseComment();
      return;
    }
    this.#parseSample();
  }

  #parseComment(): void {
    this.#pos += 1;
    const keyword = this.#token();
    if (keyword === 'EOF' && this.#token() === '') {
      this.#eof = true;
      return;
    }
    if (keyword !== 'HELP' && keyword !== 'TYPE' && keyword !== 'UNIT') return; // any other comment
    this.#skipBlanks();
    const name = this.#name(true, `metric name after # ${keyword}`);
    if (this.#pos < this.#end && !isBlank(this.#text.charCodeAt(this.#pos))) {
      this.#fail(`invalid character ${quote(this.#text[this.#pos] ?? '')} in the metric name of # ${keyword}`);
    }
    if (keyword === 'UNIT') return;
    if (keyword === 'TYPE') {
      const word = this.#token();
      const type = TYPE_WORDS[word];
      if (type === undefined) this.#fail(`unknown metric type ${quote(word)} for ${name}: expected one of ${METRIC_TYPES.join(', ')}`);
      if (this.#token() !== '') this.#fail(`unexpected text after the type of ${name}: ${quote(this.#lineText())}`);
      if (this.#typed.has(name)) this.#fail(`second TYPE line for ${name}`);
      const existing = this.families.get(name);
      if (existing && existing.samples.length > 0) this.#fail(`TYPE line for ${name} comes after its samples`);
      this.#typed.add(name);
      if (existing) {
        existing.type = type;
        this.#bySampleName.clear();
      } else {
        this.#newFamily(name, type, undefined);
      }
      return;
    }
    this.#skipBlanks();
    const help = this.#unescapeHelp(this.#text.slice(this.#pos, this.#end));
    if (this.#helped.has(name)) this.#fail(`second HELP line for ${name}`);
    this.#helped.add(name);
    const existing = this.families.get(name);
    if (existing) existing.help = help;
    else this.#newFamily(name, 'untyped', help);
  }

  #unescapeHelp(raw: string): string {
    if (!raw.includes('\\')) return raw;
    return raw.replace(/\\(.?)/g, (all, c: string) => (c === 'n' ? '\n' : c === '\\' ? '\\' : c === '"' && this.#openMetrics ? '"' : all));
  }

  #newFamily(name: string, type: MetricType, help: string | undefined): MetricFamily {
    const family: MetricFamily = { name, type, help, samples: [] };
    this.families.set(name, family);
    // A new family may claim sample names that were resolved before it existed.
    this.#bySampleName.clear();
    return family;
  }

  /** The family a sample of `name` belongs to; null for an OpenMetrics `_created` series, which is skipped. */
  #familyOf(name: string): MetricFamily | null {
    const cached = this.#bySampleName.get(name);
    if (cached !== undefined) return cached;
    let resolved: MetricFamily | null | undefined;
    const own = this.families.get(name);
    if (own && SUFFIXES[own.type].length === 0) resolved = own;
    if (resolved === undefined) {
      for (const suffix of ALL_SUFFIXES) {
        if (!name.endsWith(suffix)) continue;
        const base = this.families.get(name.slice(0, -suffix.length));
        if (base && SUFFIXES[base.type].includes(suffix)) {
          resolved = suffix === '_created' ? null : base;
          break;
        }
      }
    }
    if (resolved === undefined && own) {
      // A counter in the 0.0.4 style names its family and its samples `foo_total` alike, and a
      // summary's quantiles carry its name; a histogram sample must carry one of its suffixes.
      if (own.type === 'counter' || own.type === 'summary') resolved = own;
      else this.#fail(`sample ${name} of ${own.type} ${name} needs one of the suffixes ${SUFFIXES[own.type].join(', ')}`);
    }
    if (resolved === undefined) {
      const family: MetricFamily = { name, type: 'untyped', help: undefined, samples: [] };
      this.families.set(name, family);
      resolved = family;
    }
    this.#bySampleName.set(name, resolved);
    return resolved;
  }

  #parseSample(): void {
    const text = this.#text;
    const name = this.#name(true, 'metric name');
    const after = text.charCodeAt(this.#pos);
    if (this.#pos < this.#end && !isBlank(after) && after !== OPEN_BRACE) {
      this.#fail(`invalid character ${quote(text[this.#pos] ?? '')} in metric name ${quote(name + text.slice(this.#pos, this.#end).split(/[\s{]/)[0])}`);
    }
    this.#skipBlanks();
    const labels: Record<string, string> = Object.create(null) as Record<string, string>;
    if (this.#pos < this.#end && text.charCodeAt(this.#pos) === OPEN_BRACE) {
      this.#pos += 1;
      this.#parseLabels(name, labels);
    }
    const valueToken = this.#token();
    if (valueToken === '') this.#fail(`missing value for ${name}`);
    const value = parseFloatToken(valueToken);
    if (value === undefined) this.#fail(`invalid value ${quote(valueToken)} for ${name}`);
    let timestampMs: number | undefined;
    let next = this.#token();
    if (next !== '' && !(this.#openMetrics && next === '#')) {
      timestampMs = this.#timestamp(next, name);
      next = this.#token();
    }
    // An OpenMetrics exemplar (`# {trace_id="..."} 1`) annotates the sample; it is not data.
    if (next !== '' && !(this.#openMetrics && next === '#')) this.#fail(`unexpected text after the sample of ${name}: ${quote(next)}`);

    const family = this.#familyOf(name);
    if (family === null) return;
    if (family.type === 'histogram' && name.length === family.name.length + 7 && name.endsWith('_bucket')) {
      const le = labels.le;
      if (le === undefined) this.#fail(`histogram bucket ${name} has no "le" label`);
      if (parseFloatToken(le) === undefined) this.#fail(`histogram bucket ${name} has "le" ${quote(le)}, which is not a number`);
    } else if (family.type === 'summary' && name === family.name) {
      const q = labels.quantile;
      if (q === undefined) this.#fail(`summary ${name} has no "quantile" label`);
      if (parseFloatToken(q) === undefined) this.#fail(`summary ${name} has "quantile" ${quote(q)}, which is not a number`);
    }
    family.samples.push({ name, labels, value, timestampMs });
  }

  #timestamp(token: string, name: string): number {
    if (this.#openMetrics) {
      const seconds = parseFloatToken(token);
      const ms = seconds === undefined ? NaN : Math.round(seconds * 1000);
      if (!Number.isSafeInteger(ms)) this.#fail(`invalid timestamp ${quote(token)} for ${name}: expected seconds since the epoch`);
      return ms;
    }
    let digits = token.length > 0;
    for (let i = token.charCodeAt(0) === 0x2d ? 1 : 0; i < token.length && digits; i++) {
      const c = token.charCodeAt(i);
      digits = c >= 0x30 && c <= 0x39;
    }
    const ms = Number(token);
    if (!digits || token === '-' || !Number.isSafeInteger(ms)) this.#fail(`invalid timestamp ${quote(token)} for ${name}: expected integer milliseconds`);
    return ms;
  }

  #parseLabels(name: string, labels: Record<string, string>): void {
    const text = this.#text;
    for (;;) {
      this.#skipBlanks();
      if (this.#pos >= this.#end) this.#fail(`unterminated label set of ${name}`);
      if (text.charCodeAt(this.#pos) === CLOSE_BRACE) {
        this.#pos += 1;
        return;
      }
      const label = this.#name(false, `label name in ${name}`);
      this.#skipBlanks();
      if (text.charCodeAt(this.#pos) !== EQUALS || this.#pos >= this.#end) this.#fail(`expected "=" after label ${label} of ${name}`);
      this.#pos += 1;
      this.#skipBlanks();
      if (text.charCodeAt(this.#pos) !== QUOTE || this.#pos >= this.#end) this.#fail(`expected a quoted value for label ${label} of ${name}`);
      this.#pos += 1;
      const value = this.#labelValue(label, name);
      if (label in labels) this.#fail(`label ${label} appears twice in ${name}`);
      labels[label] = value;
      this.#skipBlanks();
      const c = text.charCodeAt(this.#pos);
      if (this.#pos < this.#end && c === COMMA) {
        this.#pos += 1;
      } else if (this.#pos >= this.#end || c !== CLOSE_BRACE) {
        this.#fail(`expected "," or "}" after the value of label ${label} of ${name}`);
      }
    }
  }

  /** Reads a label value after its opening quote, through its closing quote. */
  #labelValue(label: string, name: string): string {
    const text = this.#text;
    const close = text.indexOf('"', this.#pos);
    // Searched once per backslash rather than once per value: most pages have none at all,
    // and a search per value would scan the rest of a multi-MB page every time.
    if (this.#slashAt !== -1 && this.#slashAt < this.#pos) this.#slashAt = text.indexOf('\\', this.#pos);
    const slash = this.#slashAt;
    if (close >= 0 && close < this.#end && (slash < 0 || slash > close)) {
      const value = text.slice(this.#pos, close);
      this.#pos = close + 1;
      return value;
    }
    let out = '';
    let i = this.#pos;
    while (i < this.#end) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.#pos = i + 1;
        return out;
      }
      if (c === BACKSLASH) {
        const e = text[i + 1];
        if (i + 1 >= this.#end || e === undefined) break;
        if (e === 'n') out += '\n';
        else if (e === '\\' || e === '"') out += e;
        else this.#fail(`invalid escape ${quote(`\\${e}`)} in the value of label ${label} of ${name}: only \\\\, \\" and \\n are allowed`);
        i += 2;
        continue;
      }
      out += text[i];
      i += 1;
    }
    this.#fail(`unterminated value of label ${label} of ${name}`);
  }
}

export interface ParseOptions {
  /** Default 'prometheus' (text 0.0.4): integer millisecond timestamps. */
  format?: ExpositionFormat;
}

/**
 * Reads a Prometheus text page into its metric families, by family name, in page order.
 * Samples keep NaN and ±Inf as given. OpenMetrics `_created` series are left out, and so are
 * exemplars. Pure; throws ExpositionParseError, naming the line and what is wrong, at the
 * first line that is not the format (including anything after `# EOF`).
 */
export function parseExposition(text: string, options: ParseOptions = {}): Map<string, MetricFamily> {
  return new Parser(text, options.format ?? 'prometheus').parse();
}

/**
 * The samples named `sampleName` (e.g. `foo_bucket`), whichever family they were filed
 * under: a family of that name, or the family whose name it extends by a type's suffix.
 */
export function samplesNamed(families: ReadonlyMap<string, MetricFamily>, sampleName: string): Sample[] {
  const own = families.get(sampleName);
  if (own && own.type !== 'histogram') {
    const direct = own.samples.filter((s) => s.name === sampleName);
    if (direct.length > 0 || SUFFIXES[own.type].length === 0) return direct;
  }
  for (const suffix of ALL_SUFFIXES) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = families.get(sampleName.slice(0, -suffix.length));
    if (base && SUFFIXES[base.type].includes(suffix)) return base.samples.filter((s) => s.name === sampleName);
  }
  return [];
}
