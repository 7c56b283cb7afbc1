import { Registry, Counter, Histogram, Summary, Gauge } from 'prom-client';
import { parseFloatToken } from '../../../operator/telemetry/scrape/exposition-lexicon.ts';
import { ExpositionParseError, parseExposition, samplesNamed } from '../../../operator/telemetry/scrape/exposition-parser.ts';

function parseError(text: string, format?: 'prometheus' | 'openmetrics'): ExpositionParseError {
  try {
    parseExposition(text, format ? { format } : {});
  } catch (e) {
    if (e instanceof ExpositionParseError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('parseExposition', () => {
  it('reads families with HELP, TYPE, labels, special values and timestamps', () => {
    const families = parseExposition(
      [
        '# HELP http_requests_total The total number of HTTP requests.',
        '# TYPE http_requests_total counter',
        'http_requests_total{method="post",code="200"} 1027 1395066363000',
        'http_requests_total{method="post",code="400"}    3 1395066363000',
        '',
        '# A free comment',
        'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
        'metric_without_timestamp_and_labels 12.47',
        'something_weird{problem="division by zero"} +Inf -3982045',
        'nan_gauge NaN',
        'neg_inf -Inf',
        '# HELP http_request_duration_seconds A histogram\\nof latencies \\\\ in seconds.',
        '# TYPE http_request_duration_seconds histogram',
        'http_request_duration_seconds_bucket{le="0.05"} 24054',
        'http_request_duration_seconds_bucket{le="+Inf"} 144320',
        'http_request_duration_seconds_sum 53423',
        'http_request_duration_seconds_count 144320',
        '# TYPE rpc_duration_seconds summary',
        'rpc_duration_seconds{quantile="0.5"} 4773',
        'rpc_duration_seconds_sum 1.7560473e+07',
        'rpc_duration_seconds_count 2693',
        '',
      ].join('\n'),
    );

    const requests = families.get('http_requests_total')!;
    expect(requests).toMatchObject({ type: 'counter', help: 'The total number of HTTP requests.' });
    expect(requests.samples).toEqual([
      { name: 'http_requests_total', labels: { method: 'post', code: '200' }, value: 1027, timestampMs: 1395066363000 },
      { name: 'http_requests_total', labels: { method: 'post', code: '400' }, value: 3, timestampMs: 1395066363000 },
    ]);
    expect(families.get('msdos_file_access_time_seconds')!.samples[0]!.labels).toEqual({
      path: 'C:\\DIR\\FILE.TXT',
      error: 'Cannot find file:\n"FILE.TXT"',
    });
    expect(families.get('msdos_file_access_time_seconds')!.type).toBe('untyped');
    expect(families.get('metric_without_timestamp_and_labels')!.samples[0]).toMatchObject({ value: 12.47, timestampMs: undefined });
    expect(families.get('something_weird')!.samples[0]).toMatchObject({ value: Infinity, timestampMs: -3982045 });
    expect(families.get('nan_gauge')!.samples[0]!.value).toBeNaN();
    expect(families.get('neg_inf')!.samples[0]!.value).toBe(-Infinity);

    const histogram = families.get('http_request_duration_seconds')!;
    expect(histogram.type).toBe('histogram');
    expect(histogram.help).toBe('A histogram\nof latencies \\ in seconds.');
    expect(histogram.samples.map((s) => s.name)).toEqual([
      'http_request_duration_seconds_bucket',
      'http_request_duration_seconds_bucket',
      'http_request_duration_seconds_sum',
      'http_request_duration_seconds_count',
    ]);
    expect(families.get('rpc_duration_seconds')!.samples).toHaveLength(3);
    expect([...families.keys()]).not.toContain('http_request_duration_seconds_bucket');
  });

  it('accepts blanks, tabs, CRLF, an empty label set and a trailing comma', () => {
    const families = parseExposition('a {x = "1" , y="2",} 1\r\n\tb{} 2\t\r\nc{z="3"}3\n   \n');
    expect(families.get('a')!.samples[0]!.labels).toEqual({ x: '1', y: '2' });
    expect(families.get('b')!.samples[0]!.value).toBe(2);
    expect(families.get('c')!.samples[0]).toMatchObject({ labels: { z: '3' }, value: 3 });
  });

  it('reads Go float spellings and rejects what Go would not', () => {
    expect(parseFloatToken('1e3')).toBe(1000);
    expect(parseFloatToken('-.5')).toBe(-0.5);
    expect(parseFloatToken('5.')).toBe(5);
    expect(parseFloatToken('+Inf')).toBe(Infinity);
    expect(parseFloatToken('inf')).toBe(Infinity);
    expect(parseFloatToken('-Infinity')).toBe(-Infinity);
    expect(parseFloatToken('nan')).toBeNaN();
    for (const bad of ['', '0x10', '0b1', '1_000', 'one', '1e', '--1', 'Infinit']) expect(parseFloatToken(bad)).toBeUndefined();
  });

  it('reads what prom-client writes, histogram, summary, counter and gauge alike', async () => {
    const registry = new Registry();
    const calls = new Counter({ name: 'calls_total', help: 'Calls "made"\nhere \\ there', labelNames: ['method'], registers: [registry] });
    const latency = new Histogram({ name: 'latency_seconds', help: 'Latency', labelNames: ['status'], buckets: [0.1, 1], registers: [registry] });
    const sizes = new Summary({ name: 'size_bytes', help: 'Sizes', percentiles: [0.5, 0.9], registers: [registry] });
    const temp = new Gauge({ name: 'temperature', help: 'Temp', registers: [registry] });
    calls.labels('we"ird\\\nname').inc(3);
    latency.labels('OK').observe(0.05);
    latency.labels('OK').observe(0.5);
    sizes.observe(10);
    temp.set(-4.5);

    const families = parseExposition(await registry.metrics());

    expect(families.get('calls_total')).toMatchObject({ type: 'counter', help: 'Calls "made"\nhere \\ there' });
    expect(samplesNamed(families, 'calls_total')).toEqual([{ name: 'calls_total', labels: { method: 'we"ird\\\nname' }, value: 3, timestampMs: undefined }]);
    const buckets = samplesNamed(families, 'latency_seconds_bucket');
    expect(buckets.map((s) => [s.labels.le, s.labels.status, s.value])).toEqual([
      ['0.1', 'OK', 1],
      ['1', 'OK', 2],
      ['+Inf', 'OK', 2],
    ]);
    expect(samplesNamed(families, 'latency_seconds_count')[0]!.value).toBe(2);
    expect(samplesNamed(families, 'size_bytes').map((s) => s.labels.quantile)).toEqual(['0.5', '0.9']);
    expect(samplesNamed(families, 'temperature')[0]!.value).toBe(-4.5);
    expect(samplesNamed(families, 'nothing_total')).toEqual([]);
  });

  it('reads the OpenMetrics subset: _total counters, # UNIT, exemplars, _created left out, # EOF', () => {
    const families = parseExposition(
      [
        '# TYPE grpc_server_call_started counter',
        '# UNIT grpc_server_call_started calls',
        '# HELP grpc_server_call_started Calls started.',
        'grpc_server_call_started_total{grpc_method="a/b"} 17 1700000000.5 # {trace_id="abc"} 1 1700000000.1',
        'grpc_server_call_started_created{grpc_method="a/b"} 1699999999.0',
        '# TYPE d histogram',
        'd_bucket{le="1"} 1 # {trace_id="x"} 0.5',
        'd_bucket{le="+Inf"} 2',
        'd_count 2',
        'd_sum 3.5',
        'd_created 1699999999',
        '# TYPE s stateset',
        's{s="a"} 1',
        '# EOF',
        '',
      ].join('\n'),
      { format: 'openmetrics' },
    );
    expect(samplesNamed(families, 'grpc_server_call_started_total')).toEqual([
      { name: 'grpc_server_call_started_total', labels: { grpc_method: 'a/b' }, value: 17, timestampMs: 1700000000500 },
    ]);
    expect(families.get('grpc_server_call_started')!.help).toBe('Calls started.');
    expect(families.get('d')!.samples.map((s) => s.name)).toEqual(['d_bucket', 'd_bucket', 'd_count', 'd_sum']);
    expect(families.get('s')!.type).toBe('untyped');
  });

  it('accepts # EOF in a 0.0.4 page too', () => {
    expect(parseExposition('a 1\n# EOF\n').get('a')!.samples).toHaveLength(1);
  });

  it.each([
    ['a line that is HTML', '<!DOCTYPE html>\n<html></html>', 1, 'expected a metric name at column 1, found "<!DOCTYPE html>"'],
    ['a metric name with an invalid character', 'ok 1\nbad-name 1', 2, 'invalid character "-" in metric name "bad-name"'],
    ['a missing value', 'a{b="c"}', 1, 'missing value for a'],
    ['a value that is not a number', 'a 0x10', 1, 'invalid value "0x10" for a'],
    ['a word for a value', 'a one', 1, 'invalid value "one" for a'],
    ['text after the timestamp', 'a 1 2 3', 1, 'unexpected text after the sample of a: "3"'],
    ['a timestamp that is not integer milliseconds', 'a 1 1.5', 1, 'invalid timestamp "1.5" for a: expected integer milliseconds'],
    ['an unterminated label value', 'a{b="c} 1', 1, 'unterminated value of label b of a'],
    ['an unterminated label set', 'a{b="c" 1', 1, 'expected "," or "}" after the value of label b of a'],
    ['a label without "="', 'a{b "c"} 1', 1, 'expected "=" after label b of a'],
    ['an unquoted label value', 'a{b=c} 1', 1, 'expected a quoted value for label b of a'],
    ['a label name with a colon', 'a{b:c="d"} 1', 1, 'expected "=" after label b of a'],
    ['a label name starting with a digit', 'a{1b="d"} 1', 1, 'expected a label name in a at column 3, found "1b=\\"d\\"} 1"'],
    ['an invalid escape', 'a{b="\\t"} 1', 1, 'invalid escape "\\\\t" in the value of label b of a: only \\\\, \\" and \\n are allowed'],
    ['a label given twice', 'a{b="1",b="2"} 1', 1, 'label b appears twice in a'],
    ['an unknown type', '# TYPE a countr', 1, 'unknown metric type "countr" for a: expected one of counter, gauge, histogram, summary, untyped'],
    ['a second TYPE', '# TYPE a gauge\n# TYPE a gauge', 2, 'second TYPE line for a'],
    ['a second HELP', '# HELP a x\n# HELP a y', 2, 'second HELP line for a'],
    ['a TYPE after samples', 'a 1\n# TYPE a gauge', 2, 'TYPE line for a comes after its samples'],
    ['a bucket without le', '# TYPE h histogram\nh_bucket{x="1"} 1', 2, 'histogram bucket h_bucket has no "le" label'],
    ['a bucket whose le is not a number', '# TYPE h histogram\nh_bucket{le="big"} 1', 2, 'histogram bucket h_bucket has "le" "big", which is not a number'],
    ['a histogram sample without a suffix', '# TYPE h histogram\nh 1', 2, 'sample h of histogram h needs one of the suffixes _bucket, _count, _sum, _created'],
    ['a summary quantile without its label', '# TYPE s summary\ns 1', 2, 'summary s has no "quantile" label'],
    ['content after # EOF', 'a 1\n# EOF\nb 2', 3, 'content after "# EOF": "b 2"'],
  ])('refuses %s, naming the line', (_what, text, line, message) => {
    const error = parseError(text);
    expect(error.line).toBe(line);
    expect(error.message).toBe(`line ${line}: ${message}`);
    expect(error.retriable).toBe(true);
  });

  it('keeps exemplar syntax an error in a 0.0.4 page', () => {
    expect(parseError('a 1 # {t="x"} 1').message).toBe('line 1: invalid timestamp "#" for a: expected integer milliseconds');
  });

  it('parses a multi-MB Envoy page completely', () => {
    const lines: string[] = ['# TYPE envoy_cluster_upstream_rq_time histogram'];
    const clusters = 2_000;
    for (let i = 0; i < clusters; i++) {
      let count = 0;
      for (const le of ['0.5', '1', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '+Inf']) {
        count += i % 5;
        lines.push(`envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="meshpilot|ns|route-${i}|eu-west",le="${le}"} ${count}`);
      }
      lines.push(`envoy_cluster_upstream_rq_time_sum{envoy_cluster_name="meshpilot|ns|route-${i}|eu-west"} ${count * 3}`);
      lines.push(`envoy_cluster_upstream_rq_time_count{envoy_cluster_name="meshpilot|ns|route-${i}|eu-west"} ${count}`);
    }
    const page = `${lines.join('\n')}\n`;
    expect(page.length).toBeGreaterThan(2_000_000);

    const families = parseExposition(page);

    expect(families.get('envoy_cluster_upstream_rq_time')!.samples).toHaveLength(clusters * 16);
    const last = samplesNamed(families, 'envoy_cluster_upstream_rq_time_count').at(-1)!;
    expect(last).toMatchObject({ labels: { envoy_cluster_name: `meshpilot|ns|route-${clusters - 1}|eu-west` }, value: ((clusters - 1) % 5) * 14 });
  });
});
