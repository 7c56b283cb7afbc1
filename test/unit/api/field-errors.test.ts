import { describe, expect, it } from '@jest/globals';
import { goFloat, goQuote, goSharpV, goValue } from '../../../operator/api/schema/field-errors.ts';

describe('Go value printing', () => {
  it('quotes strings as strconv.Quote does', () => {
    expect(goQuote('plain')).toBe('"plain"');
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote('tab\tnl\n\x01')).toBe('"tab\\tnl\\n\\x01"');
    expect(goQuote('héllo 世界')).toBe('"héllo 世界"');
    expect(goQuote('\u200b')).toBe('"\\u200b"');
  });

  it('prints floats as %v does', () => {
    expect(goFloat(10000)).toBe('10000');
    expect(goFloat(1000000)).toBe('1e+06');
    expect(goFloat(0.5)).toBe('0.5');
    expect(goFloat(0.00001)).toBe('1e-05');
    expect(goFloat(123456.5)).toBe('123456.5');
    expect(goFloat(-2.5e21)).toBe('-2.5e+21');
  });

  it('prints decoded JSON values as field.Error does', () => {
    expect(goValue(20000)).toBe('20000');
    expect(goValue(1.5)).toBe('1.5');
    expect(goValue(true)).toBe('true');
    expect(goValue(null)).toBe('"null"');
    expect(goValue({ region: 'eu-west' })).toBe('map[string]interface {}{"region":"eu-west"}');
    expect(goSharpV({ b: [1, 'x', null], a: { c: false } })).toBe(
      'map[string]interface {}{"a":map[string]interface {}{"c":false}, "b":[]interface {}{1, "x", interface {}(nil)}}',
    );
  });
});
