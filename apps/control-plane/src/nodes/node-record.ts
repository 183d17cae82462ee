export interface GpuInfo {
  index: number;
  name: string;
  totalMemoryBytes: number;
}

export interface NodeTelemetry {
  gpus: { index: number; memoryUsedBytes: number; memoryPeakBytes: number; baseWeightsBytes: number; activationsBytes: number; adapterOptimizerBytes: number }[];
  jobs: { jobId: string; attempt: number; gpuIndex: number; step: number; totalSteps: number; loss: number; learningRate: number; tokensPerSecond: number; trainedTokens: number }[];
}

export interface NodeRecord {
  id: string;
  name: string;
  state: 'online' | 'lost';
  joinTokenId: string;
  backend: string;
  engineVersion: string;
  gpus: GpuInfo[];
  baseModels: string[];
  /** Effective labels: the agent's, overridden by the operators'. */
  labels: Record<string, string>;
  agentLabels: Record<string, string>;
  operatorLabels: Record<string, string>;
  /** Nothing new starts on a cordoned node; a draining one is also moving its jobs elsewhere. */
  cordoned: boolean;
  draining: boolean;
  telemetry: NodeTelemetry | null;
  registeredAt: Date;
  lastHeartbeatAt: Date;
}

export type NodeRegistration = Pick<NodeRecord, 'name' | 'joinTokenId' | 'backend' | 'engineVersion' | 'gpus' | 'baseModels'> & {
  labels: Record<string, string>;
};

/** What the scheduler reads of a node's operator state. */
export type Schedulable = 'active' | 'cordoned' | 'draining';

export function schedulable(node: Pick<NodeRecord, 'cordoned' | 'draining'>): Schedulable {
  return node.draining ? 'draining' : node.cordoned ? 'cordoned' : 'active';
}
