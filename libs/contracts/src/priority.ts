/** Preemptive priority classes, lowest first; stored as their index. */
export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];

export function priorityRank(priority: Priority): number {
  return PRIORITIES.indexOf(priority);
}

export function priorityFromRank(rank: number): Priority {
  const priority = PRIORITIES[rank];
  if (!priority) throw new RangeError(`no priority class with rank ${rank}`);
  return priority;
}
