// View: Express's lookup rules on real files, and engines loaded from packages the app has (CommonJS,
// ES modules, ES modules with top-level await) that @fcgi/core itself could not require.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../create-app.js';
import { View, type ViewEngine } from './view.js';

const echo: ViewEngine = (path, options, cb) => cb(null, `${path} ${options.x ?? ''}`);

/** A package `name` in `dir`/node_modules with `files` (package.json given as an object). */
async function pkg(dir: string, name: string, files: Record<string, string | object>): Promise<void> {
  const root = join(dir, 'node_modules', name);
  await mkdir(root, { recursive: true });
  for (const [file, body] of Object.entries(files)) {
    await writeFile(join(root, file), typeof body === 'string' ? body : JSON.stringify(body));
  }
}

/** app.render() as a promise of the HTML. */
function render(app: ReturnType<typeof createApp>, name: string, options: Record<string, unknown> = {}) {
  return new Promise<string>((resolve, reject) =>
    app.render(name, options, (err, html) => (err ? reject(err) : resolve(html!))),
  );
}

describe('View', () => {
  let dir = '';
  let views = '';
  let second = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcgi-view-'));
    views = join(dir, 'views');
    second = join(dir, 'more');
    await mkdir(join(views, 'users'), { recursive: true });
    await mkdir(join(second, 'admin'), { recursive: true });
    await writeFile(join(views, 'home.echo'), '');
    await writeFile(join(views, 'users', 'index.echo'), '');
    await writeFile(join(second, 'home.echo'), '');
    await writeFile(join(second, 'admin', 'index.echo'), '');
    await mkdir(join(views, 'dir.echo'));
    await pkg(views, 'cjsengine', {
      'package.json': { name: 'cjsengine', main: 'index.js' },
      'index.js': 'exports.__express = (p, o, cb) => cb(null, "cjs:" + o.x);',
    });
    await pkg(views, 'esmengine', {
      'package.json': { name: 'esmengine', type: 'module', exports: './index.js' },
      'index.js': 'export default { __express: (p, o, cb) => cb(null, "esm:" + o.x) };',
    });
    await pkg(views, 'tlaengine', {
      'package.json': { name: 'tlaengine', type: 'module', exports: './index.js' },
      'index.js': 'await Promise.resolve();\nexport const __express = (p, o, cb) => cb(null, "tla:" + o.x);',
    });
    await pkg(views, 'tlathrows', {
      'package.json': { name: 'tlathrows', type: 'module', exports: './index.js' },
      'index.js': 'await Promise.resolve();\nexport const __express = () => { throw new Error("bad template"); };',
    });
    await pkg(views, 'notengine', {
      'package.json': { name: 'notengine', main: 'index.js' },
      'index.js': 'exports.x = 1;',
    });
    for (const ext of ['cjsengine', 'esmengine', 'tlaengine', 'tlathrows', 'notengine'])
      await writeFile(join(views, `page.${ext}`), '');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('finds name, name + default extension, name/index, in the roots in order', () => {
    const engines = { '.echo': echo };
    const at = (name: string, root: string | string[] = views, defaultEngine: string | null = 'echo') =>
      new View(name, { defaultEngine: defaultEngine ?? undefined, root, engines }).path;
    assert.equal(at('home.echo'), join(views, 'home.echo'));
    assert.equal(at('home'), join(views, 'home.echo'));
    assert.equal(at('home', views, '.echo'), join(views, 'home.echo'));
    assert.equal(at('users'), join(views, 'users', 'index.echo'));
    assert.equal(at('users/'), join(views, 'users', 'index.echo'));
    assert.equal(at('home', [second, views]), join(second, 'home.echo'));
    assert.equal(at('admin', [views, second]), join(second, 'admin', 'index.echo'));
    assert.equal(at(join(second, 'home.echo')), join(second, 'home.echo')); // absolute names as given
    assert.equal(at('dir.echo'), undefined); // a directory is not a view
    assert.equal(at('nothing'), undefined);
    assert.throws(() => at('home', views, null), {
      message: 'No default engine was specified and no extension was provided.',
    });
  });

  it('engines from the views root: CommonJS __express, ES modules (default export, top-level await)', async () => {
    const app = createApp().set('views', views);
    assert.equal(await render(app, 'page.cjsengine', { x: 1 }), 'cjs:1');
    assert.equal(await render(app, 'page.esmengine', { x: 2 }), 'esm:2');
    assert.equal(await render(app, 'page.tlaengine', { x: 3 }), 'tla:3');
    assert.equal(await render(app, 'page.tlaengine', { x: 4 }), 'tla:4'); // loaded once, kept in app.engines
    assert.equal(typeof app.engines['.cjsengine'], 'function');
    await assert.rejects(render(app, 'page.tlathrows'), { message: 'bad template' }); // to the callback
    assert.throws(() => app.render('page.notengine', () => {}), {
      message: 'Module "notengine" does not provide a view engine.',
    });
    assert.throws(() => app.render('page.nosuchthing', () => {}), { code: 'MODULE_NOT_FOUND' });
  });

  it("a mounted app renders with its parent's engines; app.engine() checks its function", async () => {
    const parent = createApp().engine('.echo', echo);
    const sub = createApp().set('views', views);
    parent.use('/sub', sub);
    assert.equal(await render(sub, 'home.echo', { x: 'y' }), `${join(views, 'home.echo')} y`);
    assert.throws(() => parent.engine('x', 'nope' as unknown as ViewEngine), { message: 'callback function required' });
  });
});
