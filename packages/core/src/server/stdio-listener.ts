// libuv never closes file descriptors 0-2 (uv__stream_close skips them), so a server listening on
// the socket mod_fcgid or spawn-fcgi handed over as fd 0 keeps it open after net.Server#close():
// the kernel then still queues connections that nobody will accept, and resets them when the
// process exits (mod_fcgid: "Connection reset by peer ... End of script output before headers").
import { closeSync, openSync } from 'node:fs';

/**
 * Closes `fd` after its server closed, when it is one libuv leaves open; /dev/null takes its place
 * so fd 0 is never handed out again to a socket or file that code would take for stdin.
 */
export function releaseStdioListener(fd: number): void {
  if (fd < 0 || fd > 2) return;
  try {
    closeSync(fd);
  } catch {
    return; // closed already
  }
  try {
    const nul = openSync('/dev/null', fd === 0 ? 'r' : 'w');
    // The lowest free descriptor is the one just closed; anything else is not ours to keep.
    if (nul !== fd) closeSync(nul);
  } catch {
    // no /dev/null: the descriptor stays closed
  }
}
