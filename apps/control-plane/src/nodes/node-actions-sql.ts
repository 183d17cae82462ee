/** Operator actions on nodes: each one statement that changes the node and appends its audit event. */

export type NodeAction = 'cordon' | 'uncordon' | 'drain' | 'label' | 'remove';

/** Params: 1 node id, 2 actor token, 3 actor team, 4 action name, 5 audit data (jsonb; `labels` for label). */
const CHANGES: Record<NodeAction, string> = {
  cordon: 'UPDATE nodes SET cordoned = true WHERE id = $1 RETURNING id',
  uncordon: 'UPDATE nodes SET cordoned = false, draining = false WHERE id = $1 RETURNING id',
  drain: 'UPDATE nodes SET cordoned = true, draining = true WHERE id = $1 RETURNING id',
  // A null value removes the operators' label of that key (the agent's own label, if any, shows again).
  label: `UPDATE nodes SET operator_labels = jsonb_strip_nulls(operator_labels || ($5::jsonb -> 'labels')) WHERE id = $1 RETURNING id`,
  // Only a node nothing is placed on; the caller checks first, this keeps a racing placement safe.
  remove: `DELETE FROM nodes WHERE id = $1 AND NOT EXISTS (
             SELECT 1 FROM jobs WHERE node_id = $1 AND status IN ('queued', 'running')) RETURNING id`,
};

export function nodeActionSql(action: NodeAction): string {
  return `
WITH changed AS (${CHANGES[action]}), audit AS (
  INSERT INTO audit_events (actor_token_id, actor_team_id, action, target_type, target_id, data)
  SELECT $2, $3, $4, 'node', id, $5::jsonb FROM changed
)
SELECT id FROM changed`;
}

/** Draining nodes whose jobs have all left stay cordoned and stop draining; returns them. */
export const FINISH_DRAINS_SQL = `
UPDATE nodes n SET draining = false
WHERE draining AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.node_id = n.id AND j.status IN ('queued', 'running'))
RETURNING id`;
