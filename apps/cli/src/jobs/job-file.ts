import { isMap, parseDocument } from 'yaml';
import { UsageError } from '../cli-errors';

/**
 * A job file: YAML or JSON (JSON is YAML) holding the `POST /v1/jobs` body. Only its syntax and shape are checked
 * here; the fields are the control plane's to validate, so the CLI never disagrees with the server about them.
 */
export function parseJobFile(text: string, name: string): Record<string, unknown> {
  const doc = parseDocument(text, { uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new UsageError(`${name}${at ? `:${at.line}:${at.col}` : ''}: ${message}`);
  }
  if (doc.contents === null) throw new UsageError(`${name} is empty: it should hold the job's fields (model, training_file, …)`);
  if (!isMap(doc.contents)) throw new UsageError(`${name}: expected a mapping of job fields (model, training_file, …)`);
  return doc.toJS() as Record<string, unknown>;
}

export interface JobOverrides {
  model?: string;
  trainingFile?: string;
  validationFile?: string;
  suffix?: string;
  metadata?: Record<string, string>;
  nodeSelector?: Record<string, string>;
}

/** Command-line values win over the file's (metadata and node_selector are merged key by key). */
export function applyJobOverrides(body: Record<string, unknown>, o: JobOverrides): Record<string, unknown> {
  const out = { ...body };
  if (o.model !== undefined) out['model'] = o.model;
  if (o.trainingFile !== undefined) out['training_file'] = o.trainingFile;
  if (o.validationFile !== undefined) out['validation_file'] = o.validationFile;
  if (o.suffix !== undefined) out['suffix'] = o.suffix;
  mergePairs(out, 'metadata', o.metadata);
  mergePairs(out, 'node_selector', o.nodeSelector);
  return out;
}

function mergePairs(body: Record<string, unknown>, field: string, pairs: Record<string, string> | undefined): void {
  if (!pairs || Object.keys(pairs).length === 0) return;
  const existing = body[field];
  body[field] = { ...(existing && typeof existing === 'object' ? existing : {}), ...pairs };
}
