import type { Command } from 'commander';
import { ApiClient, type FetchFn } from './api/api-client';
import { UsageError } from './cli-errors';
import { configFilePath, parseConfigFile, requireToken, resolveConfig } from './config/cli-config';
import { Output, type TextStream } from './output/output';
import { CLI_VERSION } from './version';

/** Everything the CLI takes from the process, so tests can run it in-process with fakes. */
export interface CliDeps {
  env: Record<string, string | undefined>;
  stdout: TextStream;
  stderr: TextStream;
  fetch: FetchFn;
  /** For streamed uploads (see node-http-fetch.ts). */
  uploadFetch: FetchFn;
  homedir: string;
  readFile: (path: string) => Promise<string>;
  sleep: (ms: number) => Promise<void>;
  /** Unix seconds. */
  now: () => number;
  randomId: () => string;
}

export interface GlobalOptions {
  apiUrl?: string;
  token?: string;
  json?: boolean;
  quiet?: boolean;
}

export interface Session {
  client: ApiClient;
  out: Output;
}

/** What a command needs, built from the global flags at the time it runs (so `--help` needs no token). */
export class CliContext {
  constructor(readonly deps: CliDeps) {}

  output(cmd: Command): Output {
    const opts = cmd.optsWithGlobals<GlobalOptions>();
    return new Output(opts.json ? 'json' : opts.quiet ? 'quiet' : 'human', this.deps.stdout, this.deps.stderr);
  }

  async session(cmd: Command): Promise<Session> {
    const opts = cmd.optsWithGlobals<GlobalOptions>();
    const { path, explicit } = configFilePath(this.deps.env, this.deps.homedir);
    const file = parseConfigFile(await this.readOptional(path), path, explicit);
    const config = resolveConfig({ flags: { apiUrl: opts.apiUrl, token: opts.token }, env: this.deps.env, file });
    const client = new ApiClient({
      baseUrl: config.apiUrl,
      token: requireToken(config, path),
      fetch: this.deps.fetch,
      uploadFetch: this.deps.uploadFetch,
      sleep: this.deps.sleep,
      newIdempotencyKey: () => `grove-cli-${this.deps.randomId()}`,
      userAgent: `grove-cli/${CLI_VERSION}`,
    });
    return { client, out: this.output(cmd) };
  }

  /** An input file's text; a missing or unreadable one is a usage error. */
  async readInput(path: string): Promise<string> {
    try {
      return await this.deps.readFile(path);
    } catch (error) {
      throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }

  private async readOptional(path: string): Promise<string | undefined> {
    try {
      return await this.deps.readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new UsageError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
}
