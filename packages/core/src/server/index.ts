export { FcgiServer, createFcgiServer, type ServerOptions, type ListenAddress } from './server.js';
export { resolveTarget, hasListeningSocketOnFd0, DEFAULT_HOST, type ListenTarget, type ResolvedTarget } from './listen-target.js';
