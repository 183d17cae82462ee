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
  labels: Record<string, string>;
  telemetry: NodeTelemetry | null;
  registeredAt: Date;
  lastHeartbeatAt: Date;
}

export type NodeRegistration = Pick<NodeRecord, 'name' | 'joinTokenId' | 'backend' | 'engineVersion' | 'gpus' | 'baseModels' | 'labels'>;
