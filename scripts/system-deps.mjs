// The Debian packages the test suite drives (real web servers and FastCGI peers), with a binary
// that shows each is present. Read by scripts/run.mjs and .ci/run: add new ones here only.
export const systemDeps = [
  { pkg: 'nginx', bin: 'nginx', paths: ['/usr/sbin/nginx'] },
  { pkg: 'libfcgi-bin', bin: 'cgi-fcgi', paths: ['/usr/bin/cgi-fcgi'] },
  { pkg: 'spawn-fcgi', bin: 'spawn-fcgi', paths: ['/usr/bin/spawn-fcgi'] },
  // The binary carries the PHP version (php-fpm8.2 on Debian 12); the client tests find it by glob.
  { pkg: 'php-fpm', bin: 'php-fpm8.2', paths: ['/usr/sbin/php-fpm8.2'] },
  { pkg: 'golang-go', bin: 'go', paths: ['/usr/bin/go', '/usr/lib/go/bin/go'] },
  // The deployment tests (test/deploy-*.test.ts): Apache with mod_fcgid, mod_proxy_fcgi and mod_cgi
  // (the last two ship in apache2), lighttpd with mod_fastcgi, Caddy. A module has no binary: its
  // file stands for it.
  { pkg: 'apache2', bin: 'apache2', paths: ['/usr/sbin/apache2'] },
  { pkg: 'libapache2-mod-fcgid', bin: 'mod_fcgid.so', paths: ['/usr/lib/apache2/modules/mod_fcgid.so'] },
  // X-Sendfile offload through Apache (test/sendfile-offload-apache.test.ts).
  { pkg: 'libapache2-mod-xsendfile', bin: 'mod_xsendfile.so', paths: ['/usr/lib/apache2/modules/mod_xsendfile.so'] },
  // The cPanel/DirectAdmin-like shared host (test/helpers/shared-host.ts): suEXEC for the customers'
  // scripts, and for docs/deploy/shared-hosting.md's commands an sshd of the test's own (never the
  // service), the ssh/scp/sftp clients and curl.
  { pkg: 'apache2-suexec-pristine', bin: 'suexec-pristine', paths: ['/usr/lib/apache2/suexec-pristine'] },
  { pkg: 'openssh-server', bin: 'sshd', paths: ['/usr/sbin/sshd'] },
  { pkg: 'openssh-client', bin: 'scp', paths: ['/usr/bin/scp'] },
  { pkg: 'curl', bin: 'curl', paths: ['/usr/bin/curl'] },
  { pkg: 'lighttpd', bin: 'lighttpd', paths: ['/usr/sbin/lighttpd'] },
  { pkg: 'caddy', bin: 'caddy', paths: ['/usr/bin/caddy'] },
  // Sessions shared by app processes on several machines (test/multihost-failover.test.ts).
  { pkg: 'redis-server', bin: 'redis-server', paths: ['/usr/bin/redis-server'] },
];

// `node scripts/system-deps.mjs` prints the package names, for shell scripts.
if (import.meta.url === `file://${process.argv[1]}`) console.log(systemDeps.map((d) => d.pkg).join(' '));
