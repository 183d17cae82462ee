/**
 * Runs `pass` every `intervalMs` and whenever woken. Passes never overlap; a wake during a pass, or a pass that
 * says more work is waiting (returns true), runs another right after. Errors are reported and the loop goes on.
 */
export class WakeableLoop {
  private timer?: NodeJS.Timeout;
  private current?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly pass: () => Promise<boolean>,
    private readonly intervalMs: number,
    private readonly onError: (error: Error) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.intervalMs);
    this.timer.unref();
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.current) {
      this.again = true;
      return;
    }
    this.current = this.run().finally(() => (this.current = undefined));
  }

  /** Stops the loop; waits for a pass in progress at most `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([this.current, new Promise((resolve) => (timeout = setTimeout(resolve, graceMs)))]);
    clearTimeout(timeout);
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      try {
        if (await this.pass()) this.again = true;
      } catch (error) {
        this.onError(error as Error);
      }
    } while (this.again && !this.stopped);
  }
}
