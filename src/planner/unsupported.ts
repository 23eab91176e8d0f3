/**
 * The one way the planner refuses a query it cannot cache: ERR_CACHE_UNSUPPORTED naming the clause
 * and the construct. Refusal is control flow, not a failure: the statement goes upstream and the
 * reason is recorded where an operator can see it.
 */
import { RotorError } from '../errors.js';

/** ERR_CACHE_UNSUPPORTED naming the clause and the construct. */
export function unsupported(clause: string, detail: string): RotorError {
  return new RotorError('ERR_CACHE_UNSUPPORTED', [`${detail} (in ${clause})`], { clause, detail });
}
