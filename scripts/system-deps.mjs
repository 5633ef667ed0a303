// The Debian packages the test suite drives (real web servers and FastCGI peers), and the binaries
// that show each is present. Shared by scripts/run.mjs and .ci/run.
export const systemDeps = [
  { pkg: 'nginx', bin: 'nginx', paths: ['/usr/sbin/nginx'] },
  { pkg: 'libfcgi-bin', bin: 'cgi-fcgi', paths: ['/usr/bin/cgi-fcgi'] },
];
