import pino, { type Logger } from 'pino';

/** Structured JSON logs on stdout; the join token is redacted wherever it might appear. */
export function createLogger(level: string, nodeName: string): Logger {
  return pino({
    level,
    base: { service: 'grove-agent', node: nodeName },
    redact: { paths: ['joinToken', '*.joinToken', 'authorization', '*.authorization'], censor: '[redacted]' },
  });
}
