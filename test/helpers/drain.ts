// Waiting out backpressure in a handler that streams: resolves on 'drain' or 'close' (a client
// that went away never drains), whichever comes first, leaving no listener behind.
interface Emitter {
  on(event: 'drain' | 'close', fn: () => void): unknown;
  off(event: 'drain' | 'close', fn: () => void): unknown;
}

export function drainOrClose(res: Emitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
