import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../api/job-event-stream';
import type { Job } from './job';
import { jobDetails, jobNote, jobTable, WaitProgress } from './job.view';

const NOW = 1_700_000_000;
const job = (over: Partial<Job> = {}): Job => ({
  id: 'job_1', status: 'queued', model: 'org/tiny', training_file: 'file_1', validation_file: null, suffix: 'a', priority: 'normal',
  hyperparameters: { n_epochs: 1, lora: { r: 4 } }, metadata: { sha: 'abc' }, error: null, trained_tokens: null, total_steps: null,
  attempt: 0, node_id: null, result_files: [], created_at: NOW - 60, started_at: null, finished_at: null, ...over,
});

describe(jobNote.name, () => {
  it('shows why a queued job waits and when it should start and end', () => {
    const waiting = job({ wait_reason: { code: 'no_fit', message: 'no GPU has 80 GiB free' }, estimated_start_at: NOW + 600, estimated_finish_at: NOW + 3600 });
    expect(jobNote(waiting, NOW)).toBe('waiting: no_fit, starts ~in 10m, ends ~in 1h');
  });

  it("shows a failed job's error code and nothing for a plain one", () => {
    expect(jobNote(job({ status: 'failed', error: { code: 'all_examples_dropped', message: 'm' } }), NOW)).toBe('all_examples_dropped');
    expect(jobNote(job({ status: 'succeeded', estimated_finish_at: NOW - 10 }), NOW)).toBe('');
    expect(jobNote(job(), NOW)).toBe('');
  });
});

describe(jobTable.name, () => {
  it('lists jobs with their note', () => {
    const text = jobTable([job({ wait_reason: { code: 'cordoned', message: 'm' } })], NOW);
    expect(text.split('\n')[0]).toMatch(/^ID\s+STATUS\s+MODEL\s+SUFFIX\s+CREATED\s+NOTE$/);
    expect(text.split('\n')[1]).toMatch(/^job_1\s+queued\s+org\/tiny\s+a\s+2023-11-14 22:12:20Z\s+waiting: cordoned$/);
    expect(jobTable([], NOW)).toBe('No jobs.');
  });
});

describe(jobDetails.name, () => {
  it('shows the wait reason, estimates and hyperparameters when present', () => {
    const text = jobDetails(job({ wait_reason: { code: 'no_fit', message: 'no GPU has room' }, estimated_start_at: NOW + 120, node_selector: { gpu: 'a100' } }), NOW);
    expect(text).toMatch(/^waiting\s+no_fit: no GPU has room$/m);
    expect(text).toMatch(/^estimated start\s+2023-11-14 22:15:20Z \(in 2m\)$/m);
    expect(text).toMatch(/^node selector\s+gpu=a100$/m);
    expect(text).toMatch(/^hyperparameters\s+n_epochs=1$/m);
    expect(text).toMatch(/^lora\s+r=4$/m);
    expect(text).not.toMatch(/^error/m);
  });

  it("shows a failed job's error and a succeeded job's adapter command", () => {
    expect(jobDetails(job({ status: 'failed', error: { code: 'invalid_dataset', message: 'line 3' } }), NOW)).toMatch(/^error\s+invalid_dataset: line 3$/m);
    expect(jobDetails(job({ status: 'succeeded', result_files: ['/v1/jobs/job_1/adapter'] }), NOW)).toMatch(/^adapter\s+grove adapters download job_1$/m);
  });
});

describe(WaitProgress.name, () => {
  const event = (type: string): JobEvent => ({ id: '1', type, level: 'info', message: `${type} message`, data: null, created_at: NOW });

  it('prints every state change but metrics at most every interval', () => {
    const sut = new WaitProgress(10);
    expect(sut.line(event('metrics'), 100)).toMatch(/metrics message$/);
    expect(sut.line(event('metrics'), 105)).toBeUndefined();
    expect(sut.line(event('job.started'), 105)).toMatch(/^2023-11-14 22:13:20Z {2}job\.started\s+job\.started message$/);
    expect(sut.line(event('metrics'), 110)).toBeDefined();
  });
});
