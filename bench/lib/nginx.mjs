// A real nginx for the benchmarks: 1 worker, its own prefix, config and temp paths in a fresh temp
// dir, listening on a free 127.0.0.1 port, with the locations the caller gives.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess } from './proc.mjs';

export const NGINX = '/usr/sbin/nginx';

/** An upstream block named `name` for `server` ("unix:/path" or "127.0.0.1:port"). */
export function upstream(name, server, keepalive) {
  // keepalive_requests raised so kept connections are not retired every 1000 requests.
  const keep = keepalive ? `\n    keepalive ${keepalive};\n    keepalive_requests 100000;` : '';
  return `  upstream ${name} {\n    server ${server};${keep}\n  }\n`;
}

/** A location passing every request to FastCGI upstream `name`. */
export function fastcgiLocation(path, name, { keepConn, scriptFilename, extra = '' }) {
  return `    location ${path} {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_NAME $fastcgi_script_name;
      ${scriptFilename ? `fastcgi_param SCRIPT_FILENAME ${scriptFilename};` : ''}
      fastcgi_keep_conn ${keepConn ? 'on' : 'off'};
      fastcgi_pass ${name};${extra}
    }
`;
}

/** A location proxying to HTTP upstream `name` over kept-alive HTTP/1.1 connections. */
export function proxyLocation(path, name, { extra = '' } = {}) {
  return `    location ${path} {
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://${name};${extra}
    }
`;
}

function config(dir, port, { upstreams = '', locations, http = '' }) {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((k) => `  ${k}_temp_path ${join(dir, k)};`)
    .join('\n');
  return `daemon off;
master_process on;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 100000;
${temp}
${http}
${upstreams}
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
${locations}
  }
}
`;
}

/** Starts nginx with `site` ({ upstreams, locations, http }); resolves { port, stop, errorLog }. */
export async function startNginx(site) {
  const dir = await mkdtemp(join(tmpdir(), 'fcgi-bench-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  await writeFile(conf, config(dir, port, site));
  let proc;
  try {
    proc = await startProcess(NGINX, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], {
      listen: port,
      startMs: 10_000,
    });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port,
    pid: proc.pid,
    async stop() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
