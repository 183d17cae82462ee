import { Presets, SingleBar } from 'cli-progress';
import type { Output } from '../output/output';
import { formatBytes } from '../output/format';

/** A byte-count progress bar on stderr when a person is watching; nothing at all otherwise (CI logs, --json, -q). */
export class UploadProgress {
  private readonly bar: SingleBar | undefined;
  private sent = 0;

  constructor(out: Output, private readonly total: number, label: string) {
    if (!out.interactive) return;
    this.bar = new SingleBar(
      {
        stream: out.progressStream as NodeJS.WritableStream,
        format: `${label} [{bar}] {percentage}% {sent}/{size}`,
        hideCursor: true,
        clearOnComplete: true,
      },
      Presets.shades_classic,
    );
    this.bar.start(total, 0, { sent: formatBytes(0), size: formatBytes(total) });
  }

  /** A new attempt sends the body from its start again. */
  restart(): void {
    this.sent = 0;
    this.bar?.update(0, { sent: formatBytes(0) });
  }

  add(bytes: number): void {
    this.sent += bytes;
    this.bar?.update(this.sent, { sent: formatBytes(this.sent) });
  }

  stop(): void {
    this.bar?.stop();
  }
}
