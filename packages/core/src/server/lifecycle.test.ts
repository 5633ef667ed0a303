// The lifecycle in this process, with exit() and the log replaced: what a shutdown does and in what
// order, the grace period, recycling after N requests and the idle exit (driven through a real
// ServerLoad, as the connection layer drives it), the options and environment, and the handlers.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Lifecycle, resolveLifecycle, type LifecycleHooks, type ResolvedLifecycle } from './lifecycle.js';
import { ServerLoad, liveCounters, processStats } from './stats.js';

const base: ResolvedLifecycle = {
  gracefulTimeout: 2000,
  handleSignals: false,
  handleErrors: false,
  maxRequestsPerProcess: 0,
  idleTimeout: 0,
  restartCheckInterval: 0,
  onShutdown: undefined,
};

function harness(
  options: Partial<ResolvedLifecycle>,
  close: () => Promise<void> = async () => {},
  hooks: LifecycleHooks = {},
) {
  const events: string[] = [];
  const exits: number[] = [];
  let exited!: (code: number) => void;
  const exitP = new Promise<number>((resolve) => (exited = resolve));
  const lc = new Lifecycle(
    {
      close: async () => {
        events.push('close');
        await close();
        events.push('closed');
      },
      force: () => events.push('force'),
    },
    { ...base, onShutdown: (reason) => void events.push(`onShutdown:${reason}`), ...options },
    {
      exit: (code) => {
        events.push(`exit:${code}`);
        exits.push(code);
        exited(code);
      },
      log: (line) => events.push(`log:${line.split('\n')[0]}`),
      ...hooks,
    },
  );
  return { lc, events, exits, exitP };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** The idle timer is unref'd (a listening server keeps a real app alive): hold the loop open meanwhile. */
function keepAlive(): () => void {
  const t = setInterval(() => {}, 1000);
  return () => clearInterval(t);
}

describe('resolveLifecycle', () => {
  it('defaults, then the environment, and options win over it', () => {
    assert.deepEqual(
      { ...resolveLifecycle({}, {}), onShutdown: null },
      {
        gracefulTimeout: 5000,
        handleSignals: true,
        handleErrors: true,
        maxRequestsPerProcess: 0,
        idleTimeout: 0,
        restartCheckInterval: 0,
        onShutdown: null,
      },
    );
    assert.equal(resolveLifecycle({}, {}, true).restartCheckInterval, 1000, 'on when a web server started it');
    assert.equal(resolveLifecycle({}, { FCGI_RESTART_CHECK_INTERVAL: '0' }, true).restartCheckInterval, 0);
    assert.equal(resolveLifecycle({ restartCheckInterval: 250 }, {}).restartCheckInterval, 250);
    const env = { FCGI_GRACEFUL_TIMEOUT: '1500', FCGI_MAX_REQUESTS_PER_PROCESS: '500', FCGI_IDLE_TIMEOUT: '60000' };
    const fromEnv = resolveLifecycle({}, env);
    assert.equal(fromEnv.gracefulTimeout, 1500);
    assert.equal(fromEnv.maxRequestsPerProcess, 500);
    assert.equal(fromEnv.idleTimeout, 60000);
    assert.equal(resolveLifecycle({ maxRequestsPerProcess: 7, gracefulTimeout: 0 }, env).maxRequestsPerProcess, 7);
    assert.equal(resolveLifecycle({ gracefulTimeout: 0 }, env).gracefulTimeout, 0);
  });

  it('refuses what is not a whole number >= 0', () => {
    assert.throws(() => resolveLifecycle({ gracefulTimeout: -1 }, {}), RangeError);
    assert.throws(() => resolveLifecycle({ idleTimeout: 1.5 }, {}), RangeError);
    assert.throws(() => resolveLifecycle({}, { FCGI_MAX_REQUESTS_PER_PROCESS: 'many' }), /maxRequestsPerProcess/);
  });
});

describe('Lifecycle', () => {
  it('shutdown: close, then onShutdown, then one exit(0); calling it again returns the same shutdown', {
    timeout: 5000,
  }, async () => {
    const { lc, events, exitP } = harness({}, () => sleep(30));
    const first = lc.shutdown('SIGTERM');
    assert.equal(lc.shutdown('SIGINT'), first);
    assert.equal(lc.reason, 'SIGTERM');
    assert.equal(await exitP, 0);
    await first;
    assert.deepEqual(events, ['close', 'closed', 'onShutdown:SIGTERM', 'exit:0']);
  });

  it('the grace period ends a shutdown that does not finish: force, exit(1), and nothing after', {
    timeout: 5000,
  }, async () => {
    const { lc, events, exits, exitP } = harness({ gracefulTimeout: 60 }, () => new Promise(() => {}));
    const t0 = Date.now();
    void lc.shutdown('SIGTERM');
    assert.equal(await exitP, 1);
    assert.ok(Date.now() - t0 >= 55, 'not before the grace period');
    assert.ok(events.includes('force'));
    assert.ok(events.some((e) => e.includes('after gracefulTimeout (60 ms)')));
    await sleep(50);
    assert.deepEqual(exits, [1]);
  });

  it('a close that fails, or an uncaught-exception shutdown, exits with 1', { timeout: 5000 }, async () => {
    const failing = harness({}, () => Promise.reject(new Error('nope')));
    void failing.lc.shutdown('SIGTERM');
    assert.equal(await failing.exitP, 1);
    assert.ok(failing.events.some((e) => e.startsWith('log:fcgi: error while closing: Error: nope')));
    const crash = harness({});
    void crash.lc.shutdown('uncaught-exception', 1);
    assert.equal(await crash.exitP, 1);
  });

  it('maxRequestsPerProcess: the Nth request starts the shutdown, not the one before', { timeout: 5000 }, async () => {
    const load = new ServerLoad(100);
    const n = liveCounters().requests + 3;
    const { lc, events, exitP } = harness({ maxRequestsPerProcess: n });
    lc.start();
    try {
      for (let i = 0; i < 2; i++) {
        load.started();
        load.finished();
      }
      await sleep(10);
      assert.equal(lc.reason, null, 'two requests: still running');
      load.started();
      assert.equal(lc.reason, 'max-requests');
      load.finished();
      assert.equal(await exitP, 0);
      assert.ok(events.includes('onShutdown:max-requests'));
    } finally {
      lc.dispose();
    }
  });

  it('idleTimeout: exits after that long without a request; a request in flight postpones it', {
    timeout: 5000,
  }, async () => {
    const load = new ServerLoad(100);
    const { lc, exitP } = harness({ idleTimeout: 150 });
    const t0 = Date.now();
    const release = keepAlive();
    lc.start();
    try {
      await sleep(60);
      load.started(); // a request from 60 ms to 160 ms: idle only from 160 ms on
      await sleep(100);
      load.finished();
      const ended = Date.now();
      assert.equal(await exitP, 0);
      assert.equal(lc.reason, 'idle');
      assert.ok(Date.now() - ended >= 140, `idle for ${Date.now() - ended} ms after the last request`);
      assert.ok(Date.now() - t0 >= 290);
    } finally {
      release();
      lc.dispose();
    }
  });

  it('with onIdleChange (a cluster worker): idleness is reported, not acted on', { timeout: 5000 }, async () => {
    const load = new ServerLoad(100);
    const changes: boolean[] = [];
    const { lc, exits } = harness({ idleTimeout: 50 }, undefined, { onIdleChange: (idle) => changes.push(idle) });
    const release = keepAlive();
    lc.start();
    try {
      await sleep(120);
      assert.deepEqual(changes, [true]);
      load.started();
      assert.deepEqual(changes, [true, false]);
      load.finished();
      await sleep(120);
      assert.deepEqual(changes, [true, false, true]);
      assert.deepEqual(exits, []);
      assert.equal(processStats().active, 0);
    } finally {
      release();
      lc.dispose();
    }
  });

  it('start() installs the signal and error handlers asked for; dispose() removes them all', () => {
    const events = ['SIGTERM', 'SIGINT', 'uncaughtException', 'unhandledRejection'] as const;
    const before = events.map((e) => process.listenerCount(e));
    const { lc } = harness({ handleSignals: true, handleErrors: true });
    lc.start();
    assert.deepEqual(
      events.map((e) => process.listenerCount(e)),
      before.map((n) => n + 1),
    );
    lc.dispose();
    assert.deepEqual(
      events.map((e) => process.listenerCount(e)),
      before,
    );
    const { lc: none } = harness({});
    none.start();
    assert.deepEqual(
      events.map((e) => process.listenerCount(e)),
      before,
      'nothing installed when both are off',
    );
    none.dispose();
  });

  it('SIGTERM (as delivered to the listener) starts a shutdown with that reason', { timeout: 5000 }, async () => {
    const before = process.listenerCount('SIGTERM');
    const { lc, exitP } = harness({ handleSignals: true });
    lc.start();
    process.emit('SIGTERM', 'SIGTERM');
    assert.equal(lc.reason, 'SIGTERM');
    assert.equal(await exitP, 0);
    assert.equal(process.listenerCount('SIGTERM'), before, 'the handlers went with the exit');
  });

  describe('restart check', () => {
    /** A temp dir with app.fcgi in it; removed by the returned function. */
    function appDir(): { dir: string; file: string; done(): void } {
      const dir = mkdtempSync(join(tmpdir(), 'fcgi-restart-'));
      const file = join(dir, 'app.fcgi');
      writeFileSync(file, 'version 1\n');
      return { dir, file, done: () => rmSync(dir, { recursive: true, force: true }) };
    }

    for (const [what, change, why] of [
      [
        'a new file renamed over the main file',
        (dir: string, file: string) => {
          writeFileSync(join(dir, 'app.fcgi.new'), 'version 2\n');
          renameSync(join(dir, 'app.fcgi.new'), file);
        },
        /app\.fcgi was replaced \(a new file under its name\): finishing 0 request\(s\) in flight/,
      ],
      [
        'the main file written in place',
        (_dir: string, file: string) => writeFileSync(file, 'version 22\n'),
        /app\.fcgi was modified/,
      ],
      [
        'restart.txt created beside it',
        (dir: string) => writeFileSync(join(dir, 'restart.txt'), ''),
        /restart\.txt was touched/,
      ],
    ] as const) {
      it(`${what}: one line saying why, then a shutdown like SIGTERM's, exit 0`, { timeout: 5000 }, async () => {
        const { dir, file, done } = appDir();
        const release = keepAlive();
        try {
          const { lc, events, exitP } = harness({ restartCheckInterval: 20 }, async () => {}, { mainFile: file });
          lc.start();
          await sleep(60);
          assert.equal(lc.reason, null, 'nothing changed yet');
          change(dir, file);
          assert.equal(await exitP, 0);
          assert.equal(lc.reason, 'file-changed');
          assert.match(events[0]!, why);
          assert.deepEqual(events.slice(1), ['close', 'closed', 'onShutdown:file-changed', 'exit:0']);
        } finally {
          release();
          done();
        }
      });
    }

    it('restart.txt touched again (a new mtime) counts; a main file gone for a while does not', {
      timeout: 5000,
    }, async () => {
      const { dir, file, done } = appDir();
      const release = keepAlive();
      try {
        const touch = join(dir, 'restart.txt');
        writeFileSync(touch, '');
        utimesSync(touch, 1_000_000, 1_000_000);
        const { lc, exitP } = harness({ restartCheckInterval: 20 }, async () => {}, { mainFile: file });
        lc.start();
        rmSync(file);
        await sleep(80);
        assert.equal(lc.reason, null, 'a missing main file is no verdict');
        utimesSync(touch, 2_000_000, 2_000_000);
        assert.equal(await exitP, 0);
        assert.equal(lc.reason, 'file-changed');
      } finally {
        release();
        done();
      }
    });

    it('off (0), or disposed, nothing is watched', { timeout: 5000 }, async () => {
      const { dir, file, done } = appDir();
      const release = keepAlive();
      try {
        const off = harness({ restartCheckInterval: 0 }, async () => {}, { mainFile: file });
        const disposed = harness({ restartCheckInterval: 20 }, async () => {}, { mainFile: file });
        off.lc.start();
        disposed.lc.start().dispose();
        writeFileSync(join(dir, 'restart.txt'), '');
        await sleep(100);
        assert.equal(off.lc.reason, null);
        assert.equal(disposed.lc.reason, null);
      } finally {
        release();
        done();
      }
    });
  });
});
