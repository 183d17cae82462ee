/** Where `grove adapters download` puts the adapter: unpacked into a folder, kept as the tar archive, or on stdout. */
export type AdapterTarget = { kind: 'directory'; path: string } | { kind: 'archive'; path: string } | { kind: 'stdout' };

/** `-o -` → stdout, `-o x.tar` → the archive as downloaded, `-o DIR` → unpacked there; default `./<job>-adapter/`. */
export function adapterTarget(output: string | undefined, jobId: string): AdapterTarget {
  if (output === '-') return { kind: 'stdout' };
  if (output === undefined) return { kind: 'directory', path: `${jobId}-adapter` };
  return output.endsWith('.tar') ? { kind: 'archive', path: output } : { kind: 'directory', path: output };
}
