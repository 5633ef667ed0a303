// The start of a bundle made by `fcgi bundle`: its code, carried as a string, compiled with V8's
// code cache, so that a process skips parsing and compiling what the last one already compiled
// (about 7 ms of a hello's 45). runBundle() is written into each bundle as its text (it imports
// nothing); the cache is a file only the app's own user can have written, and anything else
// about it that is not as expected means no cache, never an error.

/**
 * Compiles `code` (a function expression: the bundle's app, its lines numbered from `lineOffset`)
 * with the cache for `key` (the code's hash, fixed at bundle time) when a trusted one exists, and
 * calls it with `args`. Without a usable cache it writes one once the
 * process has run a while (1 s: under a web server the first request is answered by then) or as
 * it is about to exit (CGI), including what V8 compiled while the app ran.
 *
 * The cache lives in ~/.cache/fcgi/ (never beside the bundle, where a web server could hand it
 * out): each of ~/.cache and ~/.cache/fcgi must be a directory (not a link) owned by this user
 * and writable by nobody else, the file too (opened without following links); its name is the
 * hash of the code, the file's size and mtime, a hash of the bundle's path (V8 keeps the file name a
 * cache was made with), Node's version and the platform, so another bundle's or another Node's
 * cache is never read. V8 checks its version and flags and refuses the rest.
 */
export function runBundle(
  code: string,
  key: string,
  file: string,
  lineOffset: number,
  args: unknown[],
  require: NodeJS.Require,
): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const vm = require('node:vm') as typeof import('node:vm');
  const os = require('node:os') as typeof import('node:os');
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
  // Owned by us, a directory or a file as asked, writable by nobody else.
  const ours = (st: import('node:fs').Stats, dir: boolean): boolean =>
    st.uid === uid && (dir ? st.isDirectory() : st.isFile()) && (st.mode & 0o022) === 0;
  let dir: string | null = null;
  try {
    const home = os.homedir();
    // A relative HOME would put the cache under the working directory, maybe the web space.
    if (!home.startsWith('/')) throw new Error('no home');
    const cache = `${home}/.cache`;
    const own = `${cache}/fcgi`;
    for (const d of [cache, own]) {
      try {
        fs.mkdirSync(d, { mode: 0o700 });
      } catch {
        // there already (checked below), or not ours to make
      }
      if (!ours(fs.lstatSync(d), true)) throw new Error('untrusted');
    }
    dir = own;
  } catch {
    dir = null;
  }
  // The file's size and mtime too: a bundle edited by hand (its hash unchanged), even to the same
  // length, never gets the cache of what it was; V8 compares lengths only. (Hashing the code at
  // each start would cost 0.5 ms and 1 MB.)
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st) dir = null;
  const stamp = st ? `${st.size.toString(36)}.${Math.floor(st.mtimeMs).toString(36)}` : '';
  // V8 keeps the file name the cache was made with (stacks name it): one cache per path too.
  let where = 0x811c9dc5;
  for (let i = 0; i < file.length; i++) where = Math.imul(where ^ file.charCodeAt(i), 0x01000193) >>> 0;
  const name = `${key}.${stamp}-${where.toString(16)}-${process.version}-${process.platform}-${process.arch}.v8`;
  const path = dir === null ? null : `${dir}/${name}`;
  let cachedData: Buffer | undefined;
  if (path !== null) {
    let fd = -1;
    try {
      fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      if (ours(fs.fstatSync(fd), false)) cachedData = fs.readFileSync(fd);
    } catch {
      cachedData = undefined;
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }
  const script = new vm.Script(code, {
    filename: file,
    lineOffset,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically:
      vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((specifier: string) => import(specifier) as never),
  });
  if (path !== null && (cachedData === undefined || script.cachedDataRejected === true)) {
    let written = false;
    const write = (): void => {
      if (written) return;
      written = true;
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600, flag: 'wx' });
        fs.renameSync(tmp, path);
        // The caches of earlier versions of this bundle (same path, other code) go, and any file
        // not written for 30 days (a bundle deleted or moved; one still used is written again).
        const old = Date.now() - 30 * 24 * 3600 * 1000;
        for (const other of fs.readdirSync(dir!)) {
          if (other === name || !(other.endsWith('.v8') || other.endsWith('.tmp'))) continue;
          const at = `${dir}/${other}`;
          const mine = other.endsWith('.v8') && other.includes(`-${where.toString(16)}-`);
          if (mine || fs.lstatSync(at).mtimeMs < old) fs.unlinkSync(at);
        }
      } catch {
        try {
          fs.unlinkSync(tmp);
        } catch {
          // not made
        }
      }
    };
    setTimeout(write, 1000).unref();
    process.once('exit', write);
  }
  (script.runInThisContext() as (...a: unknown[]) => unknown)(...args);
}
