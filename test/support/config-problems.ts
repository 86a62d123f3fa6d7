import { expect } from 'vitest';
import { ConfigError } from '../../src/errors';

/** The problems of the ConfigError `fn` throws (it must throw one). */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}
