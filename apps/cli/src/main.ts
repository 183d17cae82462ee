import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeHttpFetch } from './api/node-http-fetch';
import { runCli } from './cli';

// `grove … | head` closes stdout early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  fetch: (url, init) => fetch(url, init),
  uploadFetch: nodeHttpFetch,
  homedir: homedir(),
  readFile: (path) => readFile(path, 'utf8'),
  sleep: (ms) => sleep(ms),
  now: () => Date.now() / 1000,
  randomId: () => randomUUID(),
}).then((code) => {
  process.exitCode = code;
});
