export { Agent, type AgentDeps } from './agent/agent';
export { loadAgentConfig, type AgentConfig } from './config/agent-config';
export { startAgent, type RunningAgent } from './start-agent';
