// A worker's accepting on the listening socket its primary shares. Above `cap` open connections it
// stops (closes its own descriptor: libuv would otherwise take every pending connection in one
// go), so connections a web server keeps spread over the workers; it asks for the socket again
// once it has room. The primary raises the cap when every worker is full.
import { createServer, type Server, type Socket } from 'node:net';
import { logProcessLine } from '../http/log-line.js';
import type { ServerHandle } from './shared-listener.js';

export class SharedAccept {
  #listener: Server | null = null;
  #open = 0;
  /** Open connections at which accepting stops; 0: no limit (a pool of one). */
  #cap = 0;
  /** Stopped at the cap and told the primary (`full`); it sends the socket again on `room`. */
  #full = false;
  #stopped = false;
  readonly #take: (socket: Socket) => void;
  readonly #tell: (what: 'full' | 'room') => void;

  constructor(take: (socket: Socket) => void, tell: (what: 'full' | 'room') => void) {
    this.#take = take;
    this.#tell = tell;
  }

  /** Accepts on `handle` (this process's descriptor of the shared socket) until the cap or stop(). */
  listen(handle: ServerHandle & { fd?: number }, cap: number, backlog: number): void {
    this.#cap = cap;
    if (this.#stopped || this.#listener || typeof handle.fd !== 'number') return handle.close();
    this.#full = false;
    const listener = createServer({ allowHalfOpen: true, noDelay: true }, this.#onConnection);
    listener.on('error', (err: Error) =>
      logProcessLine(`fcgi: worker ${process.pid}: listening socket: ${err.message}`),
    );
    // A new handle on the same descriptor (the one IPC delivered stays unused): this one is closed
    // to pause, which closes the descriptor and ends libuv's accept loop at once.
    listener.listen({ fd: handle.fd, backlog });
    this.#listener = listener;
    if (this.#cap > 0 && this.#open >= this.#cap) this.#pause();
  }

  setCap(cap: number): void {
    this.#cap = cap;
    this.#roomAgain();
  }

  /** For good (draining): connections already taken are served; the others stay queued for the rest. */
  stop(): void {
    this.#stopped = true;
    this.#listener?.close();
    this.#listener = null;
  }

  readonly #onConnection = (socket: Socket): void => {
    this.#open++;
    socket.once('close', this.#onClose);
    this.#take(socket);
    if (this.#cap > 0 && this.#open >= this.#cap) this.#pause();
  };

  readonly #onClose = (): void => {
    this.#open--;
    this.#roomAgain();
  };

  #pause(): void {
    this.#listener?.close();
    this.#listener = null;
    if (this.#stopped) return;
    this.#full = true;
    this.#tell('full');
  }

  #roomAgain(): void {
    if (!this.#full || this.#stopped || this.#open >= this.#cap) return;
    this.#full = false;
    this.#tell('room');
  }
}
