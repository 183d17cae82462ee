import { describe, expect, it } from 'vitest';
import { UsageError } from '../cli-errors';
import { applyJobOverrides, parseJobFile } from './job-file';

describe(parseJobFile.name, () => {
  it('reads YAML', () => {
    const text = 'model: org/tiny\ntraining_file: file_1\nhyperparameters:\n  n_epochs: 2\n  lora: {r: 4}\n';
    expect(parseJobFile(text, 'job.yaml')).toEqual({ model: 'org/tiny', training_file: 'file_1', hyperparameters: { n_epochs: 2, lora: { r: 4 } } });
  });

  it('reads JSON', () => {
    expect(parseJobFile('{"model": "m", "training_file": "f", "metadata": {"a": "1"}}', 'job.json')).toEqual({ model: 'm', training_file: 'f', metadata: { a: '1' } });
  });

  it('names the file, line and column of a syntax error', () => {
    expect(() => parseJobFile('model: m\nhyperparameters: {n_epochs: 2\n', 'job.yaml')).toThrow(UsageError);
    expect(() => parseJobFile('model: m\n  bad: indent\n', 'job.yaml')).toThrow(/^job\.yaml:1:8: Nested mappings/);
  });

  it('refuses a key given twice', () => {
    expect(() => parseJobFile('model: a\nmodel: b\n', 'job.yaml')).toThrow(/job\.yaml:2:1: .*unique/i);
  });

  it('refuses an empty file and a file that is not a mapping', () => {
    expect(() => parseJobFile('', 'job.yaml')).toThrow(/job\.yaml is empty/);
    expect(() => parseJobFile('- model: m\n', 'job.yaml')).toThrow(/job\.yaml: expected a mapping/);
    expect(() => parseJobFile('just text', 'job.yaml')).toThrow(/expected a mapping/);
  });

  it('leaves field validation to the API', () => {
    expect(parseJobFile('hyperparameters: {lora: {r: 0}}\nunknown: 1\n', 'job.yaml')).toEqual({ hyperparameters: { lora: { r: 0 } }, unknown: 1 });
  });
});

describe(applyJobOverrides.name, () => {
  it('lets flags win and merges metadata', () => {
    const body = { model: 'a', training_file: 'f1', metadata: { team: 'nlp', sha: 'old' } };
    expect(applyJobOverrides(body, { trainingFile: 'f2', metadata: { sha: 'abc' } })).toEqual({ model: 'a', training_file: 'f2', metadata: { team: 'nlp', sha: 'abc' } });
  });

  it('merges node selector labels', () => {
    expect(applyJobOverrides({ node_selector: { gpu: 'a100' } }, { nodeSelector: { pool: 'ci' } })).toEqual({ node_selector: { gpu: 'a100', pool: 'ci' } });
  });

  it('changes nothing without overrides', () => {
    const body = { model: 'a', training_file: 'f1' };
    expect(applyJobOverrides(body, { metadata: {} })).toEqual(body);
  });
});
