import { UsageError } from '../cli-errors';

/** `key=value` arguments (repeatable flags such as `--metadata`). */
export function parseKeyValues(args: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} "${arg}" must be key=value`);
    out[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  return out;
}

/**
 * kubectl-style label edits: `key=value` sets, `key-` removes (null in the PATCH body). Naming a key twice is refused,
 * since the intent would be ambiguous.
 */
export function parseLabelEdits(args: string[]): Record<string, string | null> {
  if (args.length === 0) throw new UsageError('give at least one label edit: key=value to set, key- to remove');
  const out: Record<string, string | null> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const [key, value] = eq === -1 ? (arg.endsWith('-') ? [arg.slice(0, -1), null] : [undefined, undefined]) : [arg.slice(0, eq), arg.slice(eq + 1)];
    if (!key) throw new UsageError(`label edit "${arg}" must be key=value or key-`);
    if (key in out) throw new UsageError(`label "${key}" is named twice`);
    out[key] = value ?? null;
  }
  return out;
}
