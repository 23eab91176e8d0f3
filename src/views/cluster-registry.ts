/**
 * The shared registry of `--workers N` without `--redis`: the primary process holds the
 * definitions (`RegistryHost`, a hash and an epoch, as Redis would) and each worker reaches it over
 * the cluster's IPC channel (`ClusterRegistry`, a `RegistryStore` like the Redis one). The worker's
 * `RegistrySync` is the one `--redis` uses, so a registration or drop on any worker is applied on
 * every worker, and a worker that starts or restarts installs the current list: the same rules,
 * [note: shared-registry]. The primary plans nothing and touches no upstream: it stores text.
 *
 * Both ends are in this file so the message shapes are written once.
 */
import type { Logger } from 'pino';
import { RotorError } from '../errors.js';
import { RECONCILE_ALL, sharedText, type RegistryStore, type SharedDefinition, type SharedRegistryEvents } from './shared-registry.js';

/** A registry command a worker sends the primary. */
export type RegistryCommand =
  | { readonly op: 'entries' }
  | { readonly op: 'entry'; readonly id: string }
  | { readonly op: 'put'; readonly id: string; readonly text: string }
  | { readonly op: 'delete'; readonly ids: ReadonlyArray<string> }
  | { readonly op: 'has-epoch' }
  | { readonly op: 'seed'; readonly defs: ReadonlyArray<readonly [string, string]> };

/** worker → primary */
export interface RegistryCall { readonly rotor: 'registry'; readonly req: number; readonly command: RegistryCommand }
/** primary → the worker that asked */
export interface RegistryReply { readonly rotor: 'registry-reply'; readonly req: number; readonly result: unknown }
/** primary → every worker: `id` changed (`*`: everything). */
export interface RegistryChanged { readonly rotor: 'registry-changed'; readonly id: string }

export function isRegistryCall(m: unknown): m is RegistryCall {
  return typeof m === 'object' && m !== null && (m as { rotor?: unknown }).rotor === 'registry';
}

/** How long a worker waits for the primary's answer before refusing the operation. */
const CALL_TIMEOUT_MS = 5_000;

/** The primary's side: the definitions, by cache id, and whether a worker has seeded them. */
export class RegistryHost {
  readonly #hash = new Map<string, string>();
  #epoch = false;
  readonly #changed: (id: string) => void;

  /** `changed` tells every worker (the primary broadcasts a RegistryChanged). */
  constructor(changed: (id: string) => void) {
    this.#changed = changed;
  }

  get size(): number {
    return this.#hash.size;
  }

  /** Answers one command; a change is announced after it is made, as Redis publishes after writing. */
  answer(c: RegistryCommand): unknown {
    switch (c.op) {
      case 'entries': return [...this.#hash];
      case 'entry': return this.#hash.get(c.id) ?? null;
      case 'has-epoch': return this.#epoch;
      case 'put':
        this.#hash.set(c.id, c.text);
        this.#epoch = true;
        this.#changed(c.id);
        return null;
      case 'delete': {
        let n = 0;
        for (const id of c.ids) if (this.#hash.delete(id)) n++;
        if (c.ids.length > 0) this.#changed(c.ids.length === 1 ? c.ids[0] : RECONCILE_ALL);
        return n;
      }
      case 'seed':
        // The first worker up (worker 0, with the data dir's caches) seeds; later seeds are no-ops.
        if (this.#epoch) return false;
        for (const [id, text] of c.defs) if (!this.#hash.has(id)) this.#hash.set(id, text);
        this.#epoch = true;
        this.#changed(RECONCILE_ALL);
        return true;
    }
  }
}

/** What a worker needs of its process: node's IPC channel (process.send, 'message', 'disconnect'). */
export interface IpcChannel {
  readonly connected: boolean;
  send?(message: unknown): boolean;
  on(event: 'message', listener: (m: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  off(event: 'message', listener: (m: unknown) => void): unknown;
}

/** The worker's side: a RegistryStore whose commands go to the primary. */
export class ClusterRegistry implements RegistryStore {
  readonly #ipc: IpcChannel;
  readonly #events: SharedRegistryEvents;
  readonly #log: Logger;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void; timer: NodeJS.Timeout }>();
  #next = 1;
  since = Date.now();
  lastError: string | null = null;
  readonly #onMessage = (m: unknown): void => {
    if (typeof m !== 'object' || m === null) return;
    const msg = m as { rotor?: unknown; id?: unknown; req?: unknown; result?: unknown };
    if (msg.rotor === 'registry-changed' && typeof msg.id === 'string') this.#events.onChange(msg.id);
    else if (msg.rotor === 'registry-reply' && typeof msg.req === 'number') {
      const p = this.#pending.get(msg.req);
      if (p === undefined) return;
      this.#pending.delete(msg.req);
      clearTimeout(p.timer);
      p.resolve(msg.result);
    }
  };

  constructor(log: Logger, events: SharedRegistryEvents, ipc: IpcChannel = process as unknown as IpcChannel) {
    this.#ipc = ipc;
    this.#events = events;
    this.#log = log;
  }

  describe(): Record<string, unknown> {
    return { kind: 'primary' };
  }

  get connected(): boolean {
    return this.#ipc.connected;
  }

  async start(): Promise<void> {
    this.#ipc.on('message', this.#onMessage);
    this.#ipc.on('disconnect', () => {
      this.since = Date.now();
      this.lastError = 'the IPC channel to the primary process closed';
      this.#log.warn('shared registry disconnected: the primary process is gone');
    });
    if (this.connected) this.#events.onReady();
  }

  assertConnected(): void {
    if (!this.connected) throw new RotorError('ERR_REGISTRY_UNAVAILABLE', ['the primary process']);
  }

  #call(command: RegistryCommand): Promise<unknown> {
    this.assertConnected();
    const req = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(req);
        reject(new RotorError('ERR_REGISTRY_UNAVAILABLE', ['the primary process']));
      }, CALL_TIMEOUT_MS);
      timer.unref();
      this.#pending.set(req, { resolve, reject, timer });
      const call: RegistryCall = { rotor: 'registry', req, command };
      this.#ipc.send?.(call);
    });
  }

  async entries(): Promise<Map<string, string>> {
    return new Map((await this.#call({ op: 'entries' })) as Array<[string, string]>);
  }

  async entry(id: string): Promise<string | null> {
    return (await this.#call({ op: 'entry', id })) as string | null;
  }

  async put(id: string, def: SharedDefinition): Promise<void> {
    await this.#call({ op: 'put', id, text: sharedText(def) });
  }

  async delete(ids: ReadonlyArray<string>): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.#call({ op: 'delete', ids })) as number;
  }

  async hasEpoch(): Promise<boolean> {
    return (await this.#call({ op: 'has-epoch' })) as boolean;
  }

  async seedIfLost(defs: ReadonlyMap<string, SharedDefinition>): Promise<boolean> {
    return (await this.#call({ op: 'seed', defs: [...defs].map(([id, d]): [string, string] => [id, sharedText(d)]) })) as boolean;
  }

  async close(): Promise<void> {
    this.#ipc.off('message', this.#onMessage);
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
  }
}
