// Where to listen: parsing "path", "host:port", "port", "unix:path", and what fd 0 holds.
import { fstatSync, readFileSync } from 'node:fs';
import { ErrorCode, FcgiError } from '../errors.js';

export type ListenTarget = string | number | { path: string } | { port: number; host?: string } | { fd: number };

export type ResolvedTarget =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'fd'; fd: number };

/** Hosts a bare port listens on: loopback, since the web server is almost always local. */
export const DEFAULT_HOST = '127.0.0.1';

export function resolveTarget(target: ListenTarget): ResolvedTarget {
  if (typeof target === 'number') return tcp(DEFAULT_HOST, target, String(target));
  if (typeof target === 'object') {
    if ('fd' in target) {
      if (!Number.isInteger(target.fd) || target.fd < 0) throw invalid(`invalid fd in ${JSON.stringify(target)}`);
      return { kind: 'fd', fd: target.fd };
    }
    if ('path' in target) return unix(target.path);
    // An empty host would make net.Server#listen bind every interface; '' means the default, as in ":9000".
    return tcp(target.host || DEFAULT_HOST, target.port, JSON.stringify(target));
  }
  const t = target.trim();
  if (t.startsWith('unix:')) return unix(t.slice(5));
  if (/^\d+$/.test(t)) return tcp(DEFAULT_HOST, Number(t), t);
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(t);
  if (v6) return tcp(v6[1]!, Number(v6[2]), t);
  const hp = /^([^/:\s]*):(\d+)$/.exec(t);
  if (hp) return tcp(hp[1] || DEFAULT_HOST, Number(hp[2]), t);
  if (t.includes('/') || t.endsWith('.sock')) return unix(t);
  throw invalid(`cannot tell what to listen on from ${JSON.stringify(target)}: use a socket path, a port or host:port`);
}

function tcp(host: string, port: number, text: string): ResolvedTarget {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`invalid port in ${text}`);
  return { kind: 'tcp', host, port };
}

// An empty path must not reach net.Server#listen, which would fail with a puzzling port error.
function unix(path: string): ResolvedTarget {
  if (path === '') throw invalid('empty unix socket path');
  return { kind: 'unix', path };
}

function invalid(message: string): FcgiError {
  return new FcgiError(ErrorCode.INVALID_LISTEN_TARGET, message);
}

/**
 * True when fd 0 is a listening socket, as mod_fcgid, spawn-fcgi and lighttpd hand one over.
 * A connected socket (a socketpair as stdin) or a pipe is not. On Linux the socket's state is read
 * from /proc without touching the descriptor; elsewhere any socket on fd 0 counts.
 */
export function hasListeningSocketOnFd0(): boolean {
  let ino: number;
  try {
    const st = fstatSync(0);
    if (!st.isSocket()) return false;
    ino = st.ino;
  } catch {
    return false;
  }
  const unix = readProc('/proc/net/unix');
  if (unix === null) return true;
  for (const line of unix.split('\n')) {
    // Num RefCount Protocol Flags Type St Inode Path; Flags has __SO_ACCEPTCON (0x10000) when listening.
    const f = line.trim().split(/\s+/);
    if (Number(f[6]) === ino) return (parseInt(f[3]!, 16) & 0x10000) !== 0;
  }
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = readProc(file) ?? '';
    for (const line of text.split('\n')) {
      // sl local rem st ... inode (10th column); st 0A is LISTEN.
      const f = line.trim().split(/\s+/);
      if (Number(f[9]) === ino) return f[3] === '0A';
    }
  }
  return false;
}

function readProc(file: string): string | null {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return null;
  }
}
