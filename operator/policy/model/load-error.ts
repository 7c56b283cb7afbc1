// The one error a model directory that is not a usable meshpilot model gives, naming the file
// and the field, so that a route's condition can tell a user exactly what to fix.
import { ConfigError } from '../../base/errors.ts';

export class ModelLoadError extends ConfigError {
  /** The file at fault (a path). */
  readonly file: string;
  /** The field at fault within it ("" when the whole file is). */
  readonly field: string;

  constructor(file: string, field: string, problem: string, options: { cause?: unknown } = {}) {
    super(`${file}${field ? ` ${field}` : ''}: ${problem}`, options);
    this.name = 'ModelLoadError';
    this.file = file;
    this.field = field;
  }
}
