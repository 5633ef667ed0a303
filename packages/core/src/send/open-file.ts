// Finding and opening the file to send. The file is opened once and everything after (stat,
// symlink check, reading) uses that descriptor, so swapping the file or a symlink between the
// check and the read changes nothing. Only regular files are served: a FIFO, socket or device
// is "not found" (O_NONBLOCK keeps opening a FIFO from hanging).
import { close, constants, fstat, open, readlink, type Stats } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { FcgiError } from '../errors.js';
import { fsError, sendError } from './errors.js';
import type { NormalizedSendOptions } from './options.js';
import { dotfileError, hasDotSegment, isInside, type SafePath } from './path-safety.js';

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);
const readlinkAsync = promisify(readlink);
const FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export interface OpenedFile {
  fd: number;
  path: string;
  stat: Stats;
}

/** Closes a descriptor, ignoring errors (nothing useful can be done about them). */
export function closeFd(fd: number): void {
  close(fd, () => {});
}

async function openStat(path: string): Promise<OpenedFile> {
  const fd = await openAsync(path, FLAGS);
  try {
    return { fd, path, stat: await fstatAsync(fd) };
  } catch (err) {
    closeFd(fd);
    throw err;
  }
}

/** The path the descriptor really refers to: /proc on Linux (exact for the open file), else realpath. */
async function realPathOf(file: OpenedFile): Promise<string> {
  if (process.platform === 'linux') {
    try {
      const p = await readlinkAsync(`/proc/self/fd/${file.fd}`);
      if (p.startsWith('/') && !p.endsWith(' (deleted)')) return p;
    } catch {
      // no /proc: fall back
    }
  }
  return realpath(file.path);
}

/**
 * With a root and followSymlinks off: refuses (403) a file whose real path is outside the real
 * root, and applies the dotfiles policy to the real path too (a link to .git/config is a dotfile).
 */
async function containment(file: OpenedFile, opts: NormalizedSendOptions): Promise<FcgiError | null> {
  if (opts.root === null || opts.followSymlinks) return null;
  let realRoot: string;
  let real: string;
  try {
    realRoot = await opts.realRoot();
    real = await realPathOf(file);
  } catch (err) {
    return fsError(err as NodeJS.ErrnoException);
  }
  if (!isInside(realRoot, real)) return sendError(403, 'ESYMLINK');
  if (hasDotSegment(relative(realRoot, real).split(sep))) return dotfileError(opts.dotfiles);
  return null;
}

/** Opens `path` if it is a regular file inside the root; null when it is missing or not a file. */
async function openRegular(path: string, opts: NormalizedSendOptions): Promise<OpenedFile | FcgiError | null> {
  let file: OpenedFile;
  try {
    file = await openStat(path);
  } catch {
    return null;
  }
  if (!file.stat.isFile()) {
    closeFd(file.fd);
    return null;
  }
  const refused = await containment(file, opts);
  if (refused) {
    closeFd(file.fd);
    return refused;
  }
  return file;
}

/**
 * The file for a checked path: the path itself, an index file for a path ending in '/', or the
 * path plus one of the fallback extensions. A directory is an error with code EISDIR (status 404;
 * the caller may redirect to path + '/').
 */
export async function locateFile(safe: SafePath, opts: NormalizedSendOptions): Promise<OpenedFile | FcgiError> {
  if (safe.trailingSlash && opts.index.length > 0) {
    for (const name of opts.index) {
      const found = await openRegular(join(safe.path, name), opts);
      if (found) return found;
    }
    return sendError(404, 'ENOENT');
  }
  let file: OpenedFile;
  try {
    file = await openStat(safe.path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && !safe.trailingSlash && extname(safe.path) === '') {
      for (const ext of opts.extensions) {
        const found = await openRegular(`${safe.path}.${ext}`, opts);
        if (found) return found;
      }
    }
    return fsError(e);
  }
  const refused = await containment(file, opts);
  if (refused) {
    closeFd(file.fd);
    return refused;
  }
  if (file.stat.isDirectory()) {
    closeFd(file.fd);
    return sendError(404, 'EISDIR');
  }
  if (!file.stat.isFile()) {
    closeFd(file.fd);
    return sendError(404, 'ENOTFILE');
  }
  return file;
}

/** Precompressed variants, best first: the file name suffix for each content coding. */
export const VARIANT_SUFFIX: Readonly<Record<string, string>> = { br: '.br', gzip: '.gz' };

/** The first of `encodings` whose variant (file.br, file.gz) is a regular file inside the root. */
export async function openVariant(
  file: OpenedFile,
  encodings: readonly string[],
  opts: NormalizedSendOptions,
): Promise<(OpenedFile & { encoding: string }) | null> {
  for (const encoding of encodings) {
    const found = await openRegular(file.path + VARIANT_SUFFIX[encoding], opts);
    if (found instanceof FcgiError) continue; // a variant that leads outside is just not used
    if (found) return { ...found, encoding };
  }
  return null;
}
