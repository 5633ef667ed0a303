// The cPanel/DirectAdmin-like shared host (test/helpers/shared-host.ts: Apache 2.4 event MPM,
// suEXEC, mod_userdir, mod_fcgid, mod_cgid, limited AllowOverride, two customers): a createApp()
// app, an unmodified Express app and the createApp() bundle as a CGI script, each uploaded as a
// customer would (`fcgi bundle --htaccess`, files 644, then chmod 755 on the app) to ~user/ and
// ~user/sub/, reached at /~user/, /~user/sub/ and /~user/sub/app.fcgi/. Then the raw symptoms of
// the common upload mistakes, as the web server shows them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchRaw, type HttpOptions } from './helpers/nginx.js';
import type { WebSpace } from './helpers/customers.js';
import {
  FCGID_GIVE_UP_MS,
  fcgiBundle,
  sharedHostSkip,
  startSharedHost,
  type SharedHost,
} from './helpers/shared-host.js';
import {
  DIES_AT_START,
  failsAsExpected,
  uploadWithMistake,
  visit,
  type UploadMistake,
} from './helpers/upload-mistakes.js';

const skip = sharedHostSkip();

/** What each app answers at its base (GET /). */
interface Where {
  app: string;
  base: string;
  url: string;
  path: string;
  originalUrl: string;
}

/** Bounded wait until the error log, from character `from` on, holds `text`; returns that part. */
async function logged(host: SharedHost, text: string | RegExp, from = 0, ms = 5000): Promise<string> {
  const part = () => host.errorLog().slice(from);
  const has = () => (typeof text === 'string' ? part().includes(text) : text.test(part()));
  const deadline = Date.now() + ms;
  while (!has() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(has(), `${String(text)} not in Apache's error log:\n${part().slice(-3000)}`);
  return part();
}

describe('a cPanel/DirectAdmin-like shared host (suEXEC, userdir, limited AllowOverride)', {
  skip,
  // Besides the usual run, each mistake that DIES_AT_START may take mod_fcgid's longest wait.
  timeout: 300_000 + DIES_AT_START.size * FCGID_GIVE_UP_MS,
}, () => {
  let host: SharedHost | undefined;
  let build = '';
  const fetch = (path: string, o: HttpOptions = {}) => fetchRaw(host!.port, path, o);

  before(
    async () => {
      build = mkdtempSync(join(tmpdir(), 'fcgi-shared-host-build-'));
      // Built once, uploaded many times: `fcgi bundle --htaccess` writes the app and its .htaccess.
      const bundles = Promise.all([
        fcgiBundle('test/fixtures/shared-host-app.ts', join(build, 'app', 'app.fcgi'), '--htaccess'),
        fcgiBundle('test/fixtures/shared-host-express.ts', join(build, 'express', 'app.fcgi'), '--htaccess'),
        fcgiBundle('test/fixtures/shared-host-app.ts', join(build, 'cgi', 'app.cgi'), '--htaccess'),
      ]);
      // Settled together, so a failed bundle never leaves the host running unseen.
      const [b, h] = await Promise.allSettled([bundles, startSharedHost()]);
      if (h.status === 'fulfilled') host = h.value;
      if (b.status === 'rejected') throw b.reason;
      if (h.status === 'rejected') throw h.reason;
    },
    { timeout: 200_000 },
  );
  after(
    async () => {
      await host?.stop();
      if (build) rmSync(build, { recursive: true, force: true });
    },
    { timeout: 30_000 },
  );

  /** Uploads the app built in `dir` to public_html/`rel` as the customer would, replacing what was there. */
  function upload(space: WebSpace, dir: string, name: string, rel: string): void {
    space.mkdir(rel);
    for (const old of ['app.fcgi', 'app.cgi', '.htaccess']) rmSync(space.path(join(rel, old)), { force: true });
    // An FTP/SFTP client leaves 644; the customer then makes the app executable (chmod 755).
    space.uploadFile(join(rel, '.htaccess'), join(build, dir, '.htaccess'));
    chmodSync(space.uploadFile(join(rel, name), join(build, dir, name)), 0o755);
  }

  const apps = [
    {
      what: 'a createApp() app (app.fcgi, mod_fcgid)',
      dir: 'app',
      name: 'app.fcgi',
      customer: 'alice',
      kind: 'createApp',
      failure: 'shared-host-app failure',
    },
    {
      what: 'an unmodified Express app through serve() (app.fcgi, mod_fcgid)',
      dir: 'express',
      name: 'app.fcgi',
      customer: 'bob',
      kind: 'express',
      failure: 'shared-host-express failure',
    },
    {
      what: 'the createApp() bundle as a CGI script (app.cgi, mod_cgid)',
      dir: 'cgi',
      name: 'app.cgi',
      customer: 'alice',
      kind: 'createApp',
      failure: 'shared-host-app failure',
    },
  ] as const;

  for (const a of apps) {
    describe(a.what, () => {
      let space: WebSpace;
      before(() => {
        space = host![a.customer];
        upload(space, a.dir, a.name, '');
        upload(space, a.dir, a.name, 'sub');
      });

      const user = () => space.customer;
      const mounts = [
        { at: 'the user directory /~user/', base: () => `/~${user().name}` },
        { at: 'a sub-directory /~user/sub/', base: () => `/~${user().name}/sub` },
        { at: `the script URL /~user/sub/${a.name}/`, base: () => `/~${user().name}/sub/${a.name}` },
      ];

      it("suEXEC runs it as the customer who owns it, not as Apache's www-data", { timeout: 20_000 }, async () => {
        const r = await fetch(`${mounts[0]!.base()}/whoami`);
        assert.equal(r.status, 200, r.body.toString());
        const me = JSON.parse(r.body.toString()) as { uid: number; gid: number; user: string };
        assert.deepEqual(
          { uid: me.uid, gid: me.gid, user: me.user },
          { uid: user().uid, gid: user().gid, user: user().name },
        );
        assert.match(
          host!.suexecLog(),
          new RegExp(`uid: \\(${user().uid}/${user().name}\\) .*cmd: ${a.name.replace('.', '\\.')}`),
        );
      });

      for (const m of mounts) {
        it(`${m.at}: routes see the path below the base; req.baseUrl is the base`, { timeout: 20_000 }, async () => {
          const base = m.base();
          const r = await fetch(`${base}/?q=1`);
          assert.equal(r.status, 200, r.body.toString().slice(0, 500));
          assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
          const w = JSON.parse(r.body.toString()) as Where;
          assert.deepEqual(w, { app: a.kind, base, url: '/?q=1', path: '/', originalUrl: `${base}/?q=1` });
        });

        it(`${m.at}: a POSTed form reaches its route`, { timeout: 20_000 }, async () => {
          const body = Buffer.from('name=Zo%C3%AB&tag=a+b');
          const r = await fetch(`${m.base()}/echo`, {
            method: 'POST',
            body,
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          });
          assert.equal(r.status, 200, r.body.toString().slice(0, 500));
          assert.deepEqual(JSON.parse(r.body.toString()), {
            method: 'POST',
            url: '/echo',
            form: { name: 'Zoë', tag: 'a b' },
          });
        });

        it(`${m.at}: a redirect and a link built from the base lead back into the app`, {
          timeout: 20_000,
        }, async () => {
          const base = m.base();
          const r = await fetch(`${base}/go`);
          assert.equal(r.status, 302, r.body.toString().slice(0, 500));
          assert.equal(r.headers.location, `${base}/whoami`);
          const followed = await fetch(r.headers.location!);
          assert.equal(followed.status, 200);
          assert.equal((JSON.parse(followed.body.toString()) as { uid: number }).uid, user().uid);
          const link = await fetch(`${base}/link`);
          assert.equal(link.status, 200);
          assert.match(link.headers['content-type'] ?? '', /^text\/html/);
          assert.equal(link.body.toString(), `<a href="${base}/whoami">who runs this app</a>\n`);
        });

        it(`${m.at}: an unknown path is the app's 404, not Apache's`, { timeout: 20_000 }, async () => {
          const r = await fetch(`${m.base()}/no/such/page`);
          assert.equal(r.status, 404);
          assert.match(r.body.toString(), /Cannot GET /);
          assert.doesNotMatch(r.body.toString(), /was not found on this server/);
        });

        it(`${m.at}: a handler's error is a bare 500 for the visitor; message and stack are in the error log`, {
          timeout: 20_000,
        }, async () => {
          const id = randomBytes(6).toString('hex');
          const r = await fetch(`${m.base()}/boom?id=${id}`);
          assert.equal(r.status, 500);
          const body = r.body.toString();
          assert.doesNotMatch(
            body,
            /failure|\n\s+at |public_html|\.fcgi:\d|\.cgi:\d|\.ts:\d/,
            `details reached the visitor: ${body}`,
          );
          const log = await logged(host!, `${a.failure} ${id}`);
          const from = log.indexOf(`${a.failure} ${id}`);
          assert.match(
            log.slice(from, from + 3000),
            /\n.*\s+at .*shared-host-(app|express)\.ts:\d+/,
            'a stack naming the source',
          );
        });
      }
    });
  }

  describe('the raw symptoms of the common upload mistakes (what fcgi doctor must explain)', () => {
    let app = '';
    let htaccess = '';
    before(() => {
      app = join(build, 'app', 'app.fcgi');
      htaccess = readFileSync(join(build, 'app', '.htaccess'), 'utf8');
      // The stock-userdir mistakes need a public_html whose own .htaccess sets no Options.
      for (const f of ['.htaccess', 'app.fcgi', 'app.cgi']) rmSync(host!.alice.path(f), { force: true });
    });

    /** mod_fcgid's words when the process it started had gone before it connected, every time. */
    const gaveUp = /mod_fcgid: can't apply process slot for \/home\/fcgialice\/public_html\/mistake-[\w-]+\/app\.fcgi/;
    const noHeaders = /End of script output before headers: app\.fcgi/;

    /**
     * Each mistake: the status the visitor gets, what Apache's error log says, what suexec's log
     * says. For a mistake that DIES_AT_START, mod_fcgid may instead give up: then the visitor gets a
     * 503 and the log says `gaveUp` in place of `noHeaders`.
     */
    const expected: Record<UploadMistake, { status: number; log: RegExp[]; suexec?: RegExp }> = {
      'no-exec-bit': {
        status: 500,
        log: [/suexec policy violation: see suexec log for more details/, noHeaders],
        suexec: /file has no execute permission: \(\/home\/fcgialice\/public_html\/mistake-no-exec-bit\/app\.fcgi\)/,
      },
      'group-writable-file': {
        status: 500,
        log: [/suexec policy violation: see suexec log for more details/, noHeaders],
        suexec:
          /file is writable by others: \(\/home\/fcgialice\/public_html\/mistake-group-writable-file\/app\.fcgi\)/,
      },
      'group-writable-dir': {
        status: 500,
        log: [/suexec policy violation: see suexec log for more details/, noHeaders],
        suexec: /directory is writable by others: \(\/home\/fcgialice\/public_html\/mistake-group-writable-dir\)/,
      },
      'crlf-line-ends': {
        status: 500,
        log: [/\/usr\/bin\/env: 'node\\r': No such file or directory/, noHeaders],
      },
      'node-not-on-host': {
        status: 500,
        // The same words as a missing exec bit: suEXEC's exec of the file fails on its first line.
        log: [/suexec policy violation: see suexec log for more details/, noHeaders],
        suexec: /\(2\)No such file or directory: exec failed \(app\.fcgi\)/,
      },
      'stock-userdir-options': {
        status: 500,
        log: [/\/home\/fcgialice\/public_html\/mistake-stock-userdir-options\/\.htaccess: Options not allowed here/],
      },
      'env-file-readable': {
        status: 500,
        log: [
          /\[pid \d+\] fcgi: the app did not start; every request gets a 500 until the app's file is replaced or restart\.txt beside it is touched: \/home\/fcgialice\/public_html\/mistake-env-file-readable\/fcgi\.env is readable by every user of this machine \(mode 644\)/,
        ],
      },
      'stock-userdir-no-options': {
        status: 403,
        log: [
          /mod_fcgid: location of script \/home\/fcgialice\/public_html\/mistake-stock-userdir-no-options\/app\.fcgi does not have ExecCGI enabled/,
        ],
      },
    };

    for (const [kind, want] of Object.entries(expected) as [UploadMistake, (typeof expected)[UploadMistake]][]) {
      const slow = DIES_AT_START.has(kind) ? " (or, once mod_fcgid gives up, 503 and can't apply process slot)" : '';
      it(`${kind}: ${want.status}; the log says ${want.log.map(String).join(' and ')}${slow}`, {
        // The visit, then logged()'s 5 s for each line and the upload.
        timeout: FCGID_GIVE_UP_MS + 15_000,
      }, async (t) => {
        const m = uploadWithMistake(host!, host!.alice, kind, app, htaccess);
        const [log, suexec] = [host!.errorLog().length, host!.suexecLog().length];
        const v = await visit(host!, m);
        t.diagnostic(`${v.status} after ${v.ms} ms`);
        assert.ok(failsAsExpected(v, kind, want.status), `${v.status}, not ${want.status}: ${v.body.slice(0, 300)}`);
        // Nothing of it for the visitor but Apache's own error page.
        assert.doesNotMatch(v.body, /suexec|node|ExecCGI|\.htaccess/i);
        for (const re of v.gaveUp ? want.log.map((l) => (l === noHeaders ? gaveUp : l)) : want.log)
          await logged(host!, re, log);
        if (want.suexec) assert.match(host!.suexecLog().slice(suexec), want.suexec);
      });
    }
  });
});
