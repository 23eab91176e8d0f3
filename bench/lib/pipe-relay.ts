/**
 * The limit of any Node relay on this machine: a bare TCP pipe (a `net` socket piped both ways, no
 * parsing, Nagle off as Rotor has it) in front of MariaDB, in a process of its own so its CPU can
 * be read from /proc like Rotor's. `startPipeRelay` forks this file; run directly, it listens on a
 * free loopback port, relays to `--target host:port`, and reports the port to its parent.
 */
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export interface PipeRelay {
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Forks a pipe relay in front of `target` and resolves once it listens. */
export async function startPipeRelay(target: { readonly host: string; readonly port: number }): Promise<PipeRelay> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--target', `${target.host}:${target.port}`], {
    execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the pipe relay exited (${code}) before listening`)));
  });
  return {
    pid: child.pid as number, host: '127.0.0.1', port,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill();
    }),
  };
}

/** A pipe relay in front of the MariaDB of `upstreamUrl`, and that URL through it. */
export async function pipeInFrontOf(upstreamUrl: string): Promise<{ readonly relay: PipeRelay; readonly url: string }> {
  const url = new URL(upstreamUrl);
  const relay = await startPipeRelay({ host: url.hostname, port: Number(url.port || 3306) });
  url.hostname = relay.host;
  url.port = String(relay.port);
  return { relay, url: url.toString() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--target');
  const [host, port] = (process.argv[at + 1] ?? '').split(':');
  const server = net.createServer((client) => {
    const upstream = net.connect({ host, port: Number(port), noDelay: true });
    client.setNoDelay(true);
    client.pipe(upstream).pipe(client);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
    process.send?.({ port: (server.address() as net.AddressInfo).port });
  });
}
