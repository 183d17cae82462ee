import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Agent } from './agent/agent';
import type { AgentConfig } from './config/agent-config';
import { GrpcAgentRpc } from './control-plane/agent-rpc.client';
import { HttpArtifactsApi } from './control-plane/artifacts.client';
import { BullmqDispatchConsumer } from './dispatch/gpu-queues.consumer';
import { EnginePool } from './engine/engine-pool';
import { createLogger } from './logger';
import { takeInventory } from './node/node-inventory';

export interface RunningAgent {
  nodeId: string;
  agent: Agent;
  /** Graceful stop (what SIGTERM does): every job checkpointed, uploaded and reported preempted. */
  stop(): Promise<void>;
}

/** An engine with no jobs keeps its base model loaded this long, so the next job of that model starts at once. */
const ENGINE_IDLE_MS = 60_000;

/** Starts an agent in this process with real adapters: registered, consuming its GPU queues, heartbeating. */
export async function startAgent(config: AgentConfig, options: { log?: Logger } = {}): Promise<RunningAgent> {
  const log = options.log ?? createLogger(config.logLevel, config.nodeName);
  await mkdir(config.workDir, { recursive: true });
  const inventory = await takeInventory(config);
  const rpc = new GrpcAgentRpc(config.grpc.address, config.joinToken, config.grpc.tlsCaPath);
  const agent = new Agent({
    config,
    rpc,
    artifacts: new HttpArtifactsApi(config.apiUrl, config.joinToken),
    dispatch: new BullmqDispatchConsumer(config.redisUrl, (msg, err) => log.error({ err: err instanceof Error ? err.message : undefined }, msg)),
    engines: new EnginePool({
      bin: config.engine.bin,
      threads: config.engine.threads,
      backend: config.backend,
      // Several base models on one slot each get the whole slot budget; the scheduler's placement keeps their sum in it.
      memoryLimitBytes: config.backend === 'cpu' ? config.cpuSlots.memoryBytes : null,
      idleMs: ENGINE_IDLE_MS,
      log: (msg) => log.debug({ component: 'engine' }, msg),
    }),
    inventory,
    log,
  });
  try {
    await agent.start();
  } catch (e) {
    await agent.stop().catch(() => undefined);
    throw e;
  }
  return { nodeId: agent.nodeId, agent, stop: () => agent.stop() };
}
