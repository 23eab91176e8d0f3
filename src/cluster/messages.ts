/**
 * What the primary and the workers of `--workers N` say to each other over the cluster's IPC
 * channel (serialization 'advanced', so bodies travel as Buffers). The registry's messages are
 * views/cluster-registry.ts's; prom-client's AggregatorRegistry has its own.
 */

/** The environment variable the primary gives each worker its index in. */
export const WORKER_INDEX_ENV = 'ROTOR_WORKER_INDEX';

/** worker → primary: Rotor is serving. */
export interface WorkerReady {
  readonly rotor: 'ready';
  readonly index: number;
  readonly listen: { readonly host: string; readonly port: number };
}

/** primary → worker: one admin request, answered by the worker's admin app. */
export interface AdminCall {
  readonly rotor: 'admin';
  readonly req: number;
  readonly method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH' | 'HEAD' | 'OPTIONS';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | null;
}

/** worker → primary: the admin app's response. */
export interface AdminReply {
  readonly rotor: 'admin-reply';
  readonly req: number;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer | Uint8Array;
}

const is = (m: unknown, kind: string): boolean => typeof m === 'object' && m !== null && (m as { rotor?: unknown }).rotor === kind;

export const isAdminCall = (m: unknown): m is AdminCall => is(m, 'admin');
export const isAdminReply = (m: unknown): m is AdminReply => is(m, 'admin-reply');
export const isWorkerReady = (m: unknown): m is WorkerReady => is(m, 'ready');
