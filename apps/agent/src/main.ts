import { loadAgentConfig } from './config/agent-config';
import { createLogger } from './logger';
import { startAgent } from './start-agent';

async function main(): Promise<void> {
  const config = loadAgentConfig(process.env);
  const log = createLogger(config.logLevel, config.nodeName);
  const running = await startAgent(config, { log });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: checkpointing and handing back every job');
    running.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (e: Error) => {
        log.error({ err: e.message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`grove agent failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
