import { monotonicFactory } from 'ulid';

const ulid = monotonicFactory();

/** Time-ordered ids with a type prefix (`job_01J…`), so newest-first cursor pagination is an index scan. */
export type IdPrefix = 'team' | 'tok' | 'model' | 'file' | 'job' | 'join' | 'node';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}
