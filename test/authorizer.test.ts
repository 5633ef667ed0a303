// The Authorizer role over real FastCGI bytes: a server answers it only when `roles` says so
// (UNKNOWN_ROLE otherwise, and always for the Filter role); req.role tells the handler; authorizer()
// turns a decision into the 200 + Variable-* answer or the refusal the client gets.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authorizer, createFcgiServer, type FcgiServer } from '@fcgi/core';
import { RecordType, Role, Status, encodeBeginRequest, encodeNameValues, encodeStream } from '@fcgi/core/protocol';
import { app } from './fixtures/lifecycle-app.js';
import { RawClient, parseCgi } from './helpers/raw-client.js';

let dir = '';
const servers: FcgiServer[] = [];
const clients: RawClient[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fcgi-authz-'));
});
after(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.close();
  await rm(dir, { recursive: true, force: true });
});

async function listen(name: string, server: FcgiServer): Promise<string> {
  servers.push(server);
  const path = join(dir, `${name}.sock`);
  await server.listen(path);
  return path;
}

/** One request in `role`, params as an Authorizer gets them (no CONTENT_LENGTH, SCRIPT_NAME, PATH_INFO). */
async function ask(path: string, role: number, params: Record<string, string>) {
  const c = await RawClient.connect(path);
  clients.push(c);
  c.write(encodeBeginRequest(1, role, false));
  c.write(
    encodeStream(
      RecordType.PARAMS,
      1,
      encodeNameValues({
        GATEWAY_INTERFACE: 'CGI/1.1',
        SERVER_PROTOCOL: 'HTTP/1.1',
        REQUEST_METHOD: 'GET',
        ...params,
      }),
    ),
  );
  c.write(encodeStream(RecordType.STDIN, 1, Buffer.alloc(0)));
  return c.reply(1);
}

describe('the Authorizer role', { timeout: 30_000 }, () => {
  it("a server with roles [responder, authorizer]: a yes is 200 with Variable-* headers, a no is the client's answer", {
    timeout: 10_000,
  }, async () => {
    const path = await listen('both', createFcgiServer(app, { roles: ['responder', 'authorizer'] }));
    const yes = await ask(path, Role.AUTHORIZER, {
      REQUEST_URI: '/private/doc',
      HTTP_X_TOKEN: 'good',
      FCGI_APACHE_ROLE: 'AUTHORIZER',
    });
    assert.equal(yes.protocolStatus, Status.REQUEST_COMPLETE);
    const granted = parseCgi(yes.stdout);
    assert.equal(granted.status, 200);
    assert.equal(granted.headers['variable-auth_user'], 'alice');
    assert.equal(granted.headers['variable-auth_via'], 'AUTHORIZER');
    assert.equal(granted.body.length, 0);

    const no = await ask(path, Role.AUTHORIZER, { REQUEST_URI: '/private/doc', HTTP_X_TOKEN: 'bad' });
    const refused = parseCgi(no.stdout);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.toString(), 'denied by the app\n');
    assert.equal(refused.headers['variable-auth_user'], undefined);

    // The same server still answers Responder requests, which see role 'responder'.
    const echo = await ask(path, Role.RESPONDER, { REQUEST_URI: '/echo', CONTENT_LENGTH: '0' });
    const body = JSON.parse(parseCgi(echo.stdout).body.toString()) as { role: string };
    assert.equal(body.role, 'responder');
  });

  it('req.role is "authorizer" in the handler', { timeout: 10_000 }, async () => {
    const path = await listen(
      'role',
      createFcgiServer((req, res) => res.end(req.role), { roles: ['authorizer'] }),
    );
    assert.equal(
      parseCgi((await ask(path, Role.AUTHORIZER, { REQUEST_URI: '/' })).stdout).body.toString(),
      'authorizer',
    );
  });

  it('a default server answers an Authorizer request with UNKNOWN_ROLE and no output', {
    timeout: 10_000,
  }, async () => {
    const path = await listen('default', createFcgiServer(app));
    const r = await ask(path, Role.AUTHORIZER, { REQUEST_URI: '/private', HTTP_X_TOKEN: 'good' });
    assert.equal(r.protocolStatus, Status.UNKNOWN_ROLE);
    assert.equal(r.stdout.length, 0);
  });

  it('only the Authorizer role: Responder and Filter requests get UNKNOWN_ROLE', { timeout: 10_000 }, async () => {
    const path = await listen('authz-only', createFcgiServer(app, { roles: ['authorizer'] }));
    assert.equal((await ask(path, Role.RESPONDER, { REQUEST_URI: '/echo' })).protocolStatus, Status.UNKNOWN_ROLE);
    assert.equal((await ask(path, Role.FILTER, { REQUEST_URI: '/echo' })).protocolStatus, Status.UNKNOWN_ROLE);
  });

  it('authorizer() as the whole handler: a Responder request gets 404; a throw refuses with 500', {
    timeout: 10_000,
  }, async () => {
    const handler = authorizer((req) => {
      if (req.headers['x-token'] === 'boom') throw new Error('authorizer failed');
      return { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } };
    });
    const path = await listen('handler', createFcgiServer(handler, { roles: ['responder', 'authorizer'] }));
    assert.equal(parseCgi((await ask(path, Role.RESPONDER, { REQUEST_URI: '/x' })).stdout).status, 404);
    const r401 = parseCgi((await ask(path, Role.AUTHORIZER, { REQUEST_URI: '/x' })).stdout);
    assert.equal(r401.status, 401);
    assert.equal(r401.headers['www-authenticate'], 'Bearer');
    const boom = await ask(path, Role.AUTHORIZER, { REQUEST_URI: '/x', HTTP_X_TOKEN: 'boom' });
    assert.equal(parseCgi(boom.stdout).status, 500);
    assert.match(boom.stderr.toString(), /authorizer failed/);
  });

  it('roles with the Filter role are refused when the server is made', () => {
    assert.throws(() => createFcgiServer(app, { roles: ['responder', Role.FILTER] }), /unsupported FastCGI role 3/);
  });
});
