import { z } from 'zod';

/** Cursor pagination: newest first; `after` is the last id of the previous page. */
export const pageQuerySchema = z.object({
  after: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

export interface Page<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  last_id: string | null;
}

/** Builds a page from `limit + 1` fetched rows (the extra row only says whether there is more). */
export function toPage<R extends { id: string }, T>(rows: R[], limit: number, present: (row: R) => T): Page<T> {
  const pageRows = rows.slice(0, limit);
  return {
    object: 'list',
    data: pageRows.map(present),
    has_more: rows.length > limit,
    last_id: pageRows.at(-1)?.id ?? null,
  };
}
