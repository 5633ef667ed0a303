// A worker's accepting on the listening socket its primary shares. At `cap` open connections it
// pauses (stops polling the socket; libuv then accepts no more, and the kernel hands pending
// connections to the other workers), so connections a web server keeps spread over the workers;
// it resumes when one closes or the cap rises. Each pause and resume tells the primary the open
// count, from which it sets the cap (workers.ts): no message per connection otherwise.
import { createServer, type Server, type Socket } from 'node:net';
import { logProcessLine } from '../http/log-line.js';
import type { ServerHandle } from './shared-listener.js';

/**
 * The libuv stream under a listening net.Server. On a socket opened from a descriptor (as here)
 * readStop() takes it out of the event loop's poll and readStart() puts it back; 0 means done.
 */
interface PollSwitch {
  readStart(): number;
  readStop(): number;
}

export class SharedAccept {
  #listener: Server | null = null;
  #poll: PollSwitch | null = null;
  #open = 0;
  /** Open connections at which accepting pauses; 0: no cap (a pool of one, or no way to pause). */
  #cap = 0;
  /** Paused at the cap (and the primary told `full`). */
  #full = false;
  #stopped = false;
  readonly #take: (socket: Socket) => void;
  readonly #tell: (what: 'full' | 'room', open: number) => void;

  constructor(take: (socket: Socket) => void, tell: (what: 'full' | 'room', open: number) => void) {
    this.#take = take;
    this.#tell = tell;
  }

  /** Accepts on `handle` (this process's descriptor of the shared socket) until stop(). */
  listen(handle: ServerHandle & { fd?: number }, cap: number, backlog: number): void {
    if (this.#stopped || this.#listener || typeof handle.fd !== 'number') return handle.close();
    const listener = createServer({ allowHalfOpen: true, noDelay: true }, this.#onConnection);
    listener.on('error', (err: Error) =>
      logProcessLine(`fcgi: worker ${process.pid}: listening socket: ${err.message}`),
    );
    // A handle of its own on the descriptor IPC delivered (that one stays unused, as in
    // child_process's own 'net.Server' hand-over).
    // The backlog as a second argument: listen({ fd, backlog }) leaves it at 511.
    listener.listen({ fd: handle.fd }, backlog);
    this.#listener = listener;
    const poll = (listener as unknown as { _handle?: Partial<PollSwitch> })._handle;
    // readStart() on a socket that polls already only marks it; anything but 0: no pausing here.
    if (typeof poll?.readStart === 'function' && typeof poll.readStop === 'function' && poll.readStart() === 0)
      this.#poll = poll as PollSwitch;
    this.setCap(cap);
  }

  setCap(cap: number): void {
    this.#cap = this.#poll ? cap : 0;
    if (this.#cap > 0 && this.#open >= this.#cap) this.#pause();
    else this.#resume();
  }

  /** For good (draining): connections already taken are served; pending ones stay for the others. */
  stop(): void {
    this.#stopped = true;
    this.#listener?.close();
    this.#listener = null;
    this.#poll = null;
  }

  readonly #onConnection = (socket: Socket): void => {
    this.#open++;
    socket.once('close', this.#onClose);
    this.#take(socket);
    if (this.#cap > 0 && this.#open >= this.#cap) this.#pause();
  };

  readonly #onClose = (): void => {
    this.#open--;
    if (this.#open < this.#cap) this.#resume();
  };

  #pause(): void {
    if (this.#full || !this.#poll) return;
    this.#poll.readStop();
    this.#full = true;
    this.#tell('full', this.#open);
  }

  #resume(): void {
    if (!this.#full || !this.#poll) return;
    this.#poll.readStart();
    this.#full = false;
    this.#tell('room', this.#open);
  }
}
