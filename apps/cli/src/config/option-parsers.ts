import { InvalidArgumentError } from 'commander';

/** Commander parser for repeatable options: `--x a --x b` → ['a', 'b']. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Commander parser for an integer flag within bounds (commander reports the error and the CLI exits 2). */
export function intBetween(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError('not an integer');
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be ${min}-${max}`);
    return n;
  };
}
