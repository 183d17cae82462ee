import { unixSeconds } from '../common/presenters';
import type { DatasetRecord } from './datasets.repository';

export function presentDataset(d: DatasetRecord) {
  return {
    id: d.id,
    object: 'file',
    purpose: 'fine-tune',
    filename: d.filename,
    bytes: Number(d.bytes),
    sha256: d.sha256,
    format: d.format,
    lines: d.lines,
    examples: d.examples,
    status: 'processed',
    created_at: unixSeconds(d.createdAt),
  };
}
