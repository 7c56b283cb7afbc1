import { describe, expect, it } from '@jest/globals';
import { textLine } from '../../../operator/process/text-log.ts';

describe('textLine', () => {
  it('writes a JSON log line for a person: time, level, message, then the fields that matter', () => {
    const line = JSON.stringify({ level: 'info', time: '2026-12-07T11:42:13.123Z', name: 'meshpilot', version: '0.1.0', msg: 'control plane ready', url: 'https://127.0.0.1:1', weights: { a: 1 }, note: 'two words' });
    expect(textLine(line)).toBe('11:42:13 INFO  control plane ready url=https://127.0.0.1:1 weights={"a":1} note="two words"');
  });

  it('shows an error by its message, and passes a line that is not JSON through', () => {
    expect(textLine(JSON.stringify({ level: 'warn', time: '2026-12-07T11:42:13Z', msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n at x' } }))).toBe('11:42:13 WARN  failed error=boom');
    expect(textLine('not json')).toBe('not json');
  });
});
