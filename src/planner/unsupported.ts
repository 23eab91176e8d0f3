/**
 * The one way Rotor refuses a query it cannot cache, in the planner and at registration (views):
 * ERR_CACHE_UNSUPPORTED naming the clause and the construct. Refusal is control flow, not a
 * failure: the statement goes upstream and the reason is recorded where an operator can see it.
 */
import { RotorError } from '../errors.js';

/**
 * ERR_CACHE_UNSUPPORTED naming the clause and the construct (the reason an operator sees), its
 * message `detail (in clause)` unless the reason reads better in words of its own.
 */
export function unsupported(clause: string, detail: string, message = `${detail} (in ${clause})`): RotorError {
  return new RotorError('ERR_CACHE_UNSUPPORTED', [message], { clause, detail });
}
