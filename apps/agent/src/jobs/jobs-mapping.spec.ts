import { FailureReason } from '@grove/proto';
import { describe, expect, it } from 'vitest';
import { AssignmentFormatError, parseAssignment } from './assignment';
import { buildEngineJob } from './engine-job.builder';
import { failureReasonFor } from './failure-reason';
import { jobPaths, modelFolderName } from './job-paths';

const body = {
  job_id: 'job_01',
  attempt: 2,
  node_id: 'node_01',
  gpu_index: 1,
  model: 'meta-llama/Llama-3.2-1B',
  total_steps: 30,
  checkpoint_every: null,
  hyperparameters: { batch_size: 8, micro_batch_size: 2, learning_rate: 3e-4, lr_scheduler: 'linear', warmup_steps: 5, weight_decay: 0.01, max_grad_norm: 0.5, seed: 9, lora: { r: 16, alpha: 32, dropout: 0.1, target_modules: ['q_proj', 'o_proj'], use_rslora: true } },
  token_file_url: '/v1/agent/jobs/job_01/token-file',
  checkpoint: { step: 10, url: '/v1/agent/jobs/job_01/checkpoints/10' },
};

describe(parseAssignment.name, () => {
  it('camel-cases the assignment and fills hyperparameter defaults', () => {
    const sut = parseAssignment({ ...body, hyperparameters: {} });
    expect(sut).toMatchObject({ jobId: 'job_01', attempt: 2, gpuIndex: 1, checkpointEvery: null, checkpoint: { step: 10 } });
    expect(sut.hyperparameters).toMatchObject({ batch_size: 8, micro_batch_size: 4, lr_scheduler: 'cosine', lora: { r: 8 } });
  });

  it('names what is wrong with a bad assignment', () => {
    expect(() => parseAssignment({ ...body, total_steps: 0, hyperparameters: { batch_size: 6, micro_batch_size: 4 } })).toThrow(AssignmentFormatError);
    expect(() => parseAssignment({ ...body, total_steps: 0 })).toThrow(/total_steps/);
    expect(() => parseAssignment({ ...body, hyperparameters: { batch_size: 6, micro_batch_size: 4 } })).toThrow(/micro_batch_size/);
  });
});

describe(buildEngineJob.name, () => {
  it('maps every hyperparameter onto the engine job object', () => {
    const paths = jobPaths('/w', 'job_01', 2);
    expect(buildEngineJob(parseAssignment(body), paths, 20)).toEqual({
      id: 'job_01',
      tokens: '/w/jobs/job_01/attempt-2/tokens.gtok',
      lora: { r: 16, alpha: 32, dropout: 0.1, target_modules: ['q_proj', 'o_proj'], use_rslora: true },
      optimizer: { lr: 3e-4, weight_decay: 0.01, max_grad_norm: 0.5 },
      schedule: { type: 'linear', warmup_steps: 5 },
      steps: 30,
      micro_batch_size: 2,
      grad_accum: 4,
      shuffle: true,
      seed: 9,
      output_dir: '/w/jobs/job_01/attempt-2/output',
      checkpoint_dir: '/w/jobs/job_01/attempt-2/checkpoint',
      checkpoint_every: 20,
    });
  });

  it('adds the downloaded validation set with the job\'s evaluation interval and early stopping', () => {
    const withValidation = { ...body, validation_token_file_url: '/v1/agent/jobs/job_01/validation-token-file' };
    expect(buildEngineJob(parseAssignment(withValidation), jobPaths('/w', 'job_01', 2), 20).validation)
      .toEqual({ tokens: '/w/jobs/job_01/attempt-2/validation.gtok', eval_every: 3 });
    const stopping = { ...withValidation, hyperparameters: { ...body.hyperparameters, eval_every_steps: 4, early_stopping: { patience: 2 } } };
    expect(buildEngineJob(parseAssignment(stopping), jobPaths('/w', 'job_01', 2), 20).validation)
      .toEqual({ tokens: '/w/jobs/job_01/attempt-2/validation.gtok', eval_every: 4, early_stopping: { patience: 2, min_delta: 0 } });
    expect(buildEngineJob(parseAssignment(body), jobPaths('/w', 'job_01', 2), 20)).not.toHaveProperty('validation');
  });

  it("uses the assignment's checkpoint interval when it has one", () => {
    expect(buildEngineJob(parseAssignment({ ...body, checkpoint_every: 5 }), jobPaths('/w', 'j', 1), 20).checkpoint_every).toBe(5);
  });
});

describe(modelFolderName.name, () => {
  it('replaces every slash', () => {
    expect(modelFolderName('org/team/model')).toBe('org--team--model');
  });
});

describe(failureReasonFor.name, () => {
  it('maps each engine reason', () => {
    expect(failureReasonFor('data_error')).toBe(FailureReason.FAILURE_REASON_DATA_ERROR);
    expect(failureReasonFor('diverged')).toBe(FailureReason.FAILURE_REASON_DIVERGED);
    expect(failureReasonFor('oom')).toBe(FailureReason.FAILURE_REASON_OOM);
    expect(failureReasonFor('engine_error')).toBe(FailureReason.FAILURE_REASON_ENGINE_CRASH);
  });
});
