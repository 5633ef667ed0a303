// The Debian packages the test suite drives (real web servers and FastCGI peers), with a binary
// that shows each is present. Read by scripts/run.mjs and .ci/run: add new ones here only.
export const systemDeps = [
  { pkg: 'nginx', bin: 'nginx', paths: ['/usr/sbin/nginx'] },
  { pkg: 'libfcgi-bin', bin: 'cgi-fcgi', paths: ['/usr/bin/cgi-fcgi'] },
  { pkg: 'spawn-fcgi', bin: 'spawn-fcgi', paths: ['/usr/bin/spawn-fcgi'] },
  // The binary carries the PHP version (php-fpm8.2 on Debian 12); the client tests find it by glob.
  { pkg: 'php-fpm', bin: 'php-fpm8.2', paths: ['/usr/sbin/php-fpm8.2'] },
  { pkg: 'golang-go', bin: 'go', paths: ['/usr/bin/go', '/usr/lib/go/bin/go'] },
];

// `node scripts/system-deps.mjs` prints the package names, for shell scripts.
if (import.meta.url === `file://${process.argv[1]}`) console.log(systemDeps.map((d) => d.pkg).join(' '));
