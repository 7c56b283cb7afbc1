// The one flag helper (base/flags.ts): parsing, environment fallback, errors naming the flag,
// and help generated from the same description.
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { booleanValue, flag, flagsHelp, integerValue, oneOf, parseFlags, rawFlag, readFlags } from '../../../operator/base/flags.ts';
import { ConfigError } from '../../../operator/base/errors.ts';

const FLAGS = {
  'lease-name': flag(z.string().min(1).default('meshpilot-operator'), { arg: 'NAME', help: 'name of the Lease' }),
  workers: flag(integerValue(1, 64).prefault('4'), { arg: 'N', help: 'concurrent reconciles' }),
  format: flag(oneOf(['json', 'text'] as const).default('json'), { arg: 'F', help: 'output format' }),
  force: flag(booleanValue.default(false), { switch: true, help: 'do it anyway' }),
  file: flag(z.array(z.string()).optional(), { arg: 'FILE', short: 'f', multiple: true, help: 'a file; repeatable' }),
};

describe('flags', () => {
  it('reads the command line over the environment over the defaults', () => {
    expect(parseFlags(FLAGS, [])).toEqual({ 'lease-name': 'meshpilot-operator', workers: 4, format: 'json', force: false });
    expect(parseFlags(FLAGS, ['--workers', '8'], { env: { MESHPILOT_WORKERS: '2', MESHPILOT_LEASE_NAME: 'x' } })).toMatchObject({ workers: 8, 'lease-name': 'x' });
    expect(parseFlags(FLAGS, ['--force', '-f', 'a', '-f', 'b'])).toMatchObject({ force: true, file: ['a', 'b'] });
  });

  it('ignores the environment unless the command reads it', () => {
    expect(parseFlags(FLAGS, [], {}).workers).toBe(4);
    expect(readFlags(FLAGS, []).values.workers).toBeUndefined();
  });

  it('names the flag, and the variable when the environment is read, in every error', () => {
    expect(() => parseFlags(FLAGS, ['--workers', '0'])).toThrow('--workers: must be an integer from 1 to 64, got "0"');
    expect(() => parseFlags(FLAGS, [], { env: { MESHPILOT_FORMAT: 'yaml' } })).toThrow('--format (or MESHPILOT_FORMAT): "yaml" is not one of json, text');
    expect(() => parseFlags(FLAGS, ['--workers', 'x', '--format', 'y'])).toThrow(/invalid flags:\n {2}--workers: .*\n {2}--format: /);
    expect(() => parseFlags(FLAGS, ['--nope'])).toThrow(ConfigError);
    expect(() => parseFlags(FLAGS, ['stray'])).toThrow(ConfigError);
  });

  it('reads one raw flag in either form before parsing, and nothing for an absent one', () => {
    expect(rawFlag(['run', '--log-level', 'debug'], 'log-level')).toBe('debug');
    expect(rawFlag(['--log-level=trace', '--x'], 'log-level')).toBe('trace');
    expect(rawFlag(['--kubeconfig=/a=b'], 'kubeconfig')).toBe('/a=b');
    expect(rawFlag(['--log-levels', 'x'], 'log-level')).toBeUndefined();
  });

  it('takes integers in digits only, and says "required" for one not given', () => {
    const shape = { count: flag(integerValue(1, 10), { arg: 'N', help: 'how many' }) };
    expect(parseFlags(shape, ['--count', '3'])).toEqual({ count: 3 });
    for (const bad of ['1e1', '0x3', '-1', '11', '']) expect(() => parseFlags(shape, [`--count=${bad}`])).toThrow(`--count: must be an integer from 1 to 10, got ${JSON.stringify(bad)}`);
    expect(() => parseFlags(shape, [])).toThrow('--count: required');
  });

  it('writes help from the same description: placeholder, help and default, switches without one', () => {
    const help = flagsHelp(FLAGS);
    expect(help).toContain('  --lease-name NAME        name of the Lease (default meshpilot-operator)');
    expect(help).toContain('  --workers N              concurrent reconciles (default 4)');
    expect(help).toContain(`  --force${' '.repeat(18)}do it anyway\n`);
    expect(help).toContain('  -f, --file FILE          a file; repeatable');
    expect(() => flagsHelp({ bare: z.string() })).toThrow(/--bare has no description/);
  });
});
