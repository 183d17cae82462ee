import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { DatasetError, type DatasetErrorCode, type DatasetErrorDetails, type DatasetStats } from '@grove/datasets';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TokenizeReply, TokenizeRequest } from './tokenize-request';

type Pending = { resolve: (stats: DatasetStats) => void; reject: (error: Error) => void };

/** The process is shutting down: the work was not done and will be picked up again after restart. */
export class ShuttingDownError extends Error {
  constructor() {
    super('the control plane is shutting down');
  }
}

/** The tokenizer worker thread: requests in, stats or a DatasetError out. Restarted if it dies. */
@Injectable()
export class TokenizerThread implements OnModuleDestroy {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  tokenize(request: Omit<TokenizeRequest, 'id'>): Promise<DatasetStats> {
    if (this.closed) return Promise.reject(new ShuttingDownError());
    const id = this.nextId++;
    return new Promise<DatasetStats>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread().postMessage({ ...request, id });
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new ShuttingDownError());
    await worker?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    // From sources (dev, tests) the thread needs a TypeScript loader too.
    const ts = join(__dirname, 'tokenizer.worker.ts');
    const file = existsSync(ts) ? ts : join(__dirname, 'tokenizer.worker.js');
    // tsx (esbuild, out of process) rather than swc's in-process native addon, which can crash a process when its
    // thread is terminated.
    const worker = new Worker(file, { execArgv: file.endsWith('.ts') ? ['--require', 'tsx/cjs'] : [] });
    worker.on('message', (reply: TokenizeReply) => this.settle(reply));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(new Error(`tokenizer thread exited with code ${code}`));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(reply: TokenizeReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply.stats);
    else if (reply.datasetError) pending.reject(new DatasetError(reply.code as DatasetErrorCode, reply.message, reply.details as DatasetErrorDetails));
    else pending.reject(new Error(reply.message));
  }

  private failAll(error: Error): void {
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(error);
    }
  }
}
