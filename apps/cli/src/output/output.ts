export interface TextStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** `human`: tables and sentences; `json`: the raw API JSON; `quiet`: only ids, one a line. */
export type OutputMode = 'human' | 'json' | 'quiet';

/**
 * Results go to stdout, progress, notes and errors to stderr, so `--json`/`-q` output can be piped as it is while a CI
 * log still shows what happened.
 */
export class Output {
  constructor(
    readonly mode: OutputMode,
    private readonly stdout: TextStream,
    private readonly stderr: TextStream,
  ) {}

  /** A command's result: `value` as the API returned it (`--json`), its id(s) (`-q`), or `human()`'s text. */
  result(value: unknown, human: () => string): void {
    if (this.mode === 'json') this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else if (this.mode === 'quiet') for (const id of idsOf(value)) this.stdout.write(`${id}\n`);
    else {
      const text = human();
      if (text) this.stdout.write(`${text}\n`);
    }
  }

  /** One JSON object per line (streams of events in `--json` mode). */
  jsonLine(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** A line of human output on stdout (nothing in `--json`/`-q` mode). */
  line(text: string): void {
    if (this.mode === 'human') this.stdout.write(`${text}\n`);
  }

  /** Progress and notes, on stderr in every mode. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** Warnings on stderr in every mode. */
  warn(text: string): void {
    this.stderr.write(`warning: ${text}\n`);
  }

  /** Whether to draw a progress bar: stderr is a terminal and the output is not for a machine. */
  get interactive(): boolean {
    return this.mode !== 'json' && this.stderr.isTTY === true;
  }

  get progressStream(): TextStream {
    return this.stderr;
  }
}

function idsOf(value: unknown): string[] {
  const v = value as { object?: string; data?: { id?: string }[]; id?: string } | null;
  if (v?.object === 'list' && Array.isArray(v.data)) return v.data.map((d) => d.id).filter((id): id is string => typeof id === 'string');
  return typeof v?.id === 'string' ? [v.id] : [];
}
