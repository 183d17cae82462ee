export { Agent, type AgentDeps } from './agent/agent';
export { loadAgentConfig, type AgentConfig } from './config/agent-config';
export { gpuQueueName, type DispatchMessage } from './dispatch/dispatch-message';
export { startAgent, type RunningAgent } from './start-agent';
