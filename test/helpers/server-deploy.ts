// The before/after hooks of a describe that runs one web server in front of its apps in a fresh
// deploy dir: before makes the dir and runs `start`; after stops the server, then what `cleanup`
// stops (the apps), then removes the dir.
import { after, before } from 'node:test';
import { createDeployDir, type DeployDir } from './deploy-app.js';

export interface ServerDeployOptions<S extends { stop(): Promise<void> }> {
  /** The deploy dir's name prefix (mkdtemp). */
  prefix: string;
  /** Puts the apps in place in `deploy` and starts the web server in front of them. */
  start: (deploy: DeployDir) => Promise<S>;
  /** Stops what `start` started besides the server (also when `start` failed partway). */
  cleanup?: () => unknown;
  /** The before hook's timeout; 60 s when not given. */
  startTimeout?: number;
}

export interface ServerDeploy<S> {
  /** The web server `start` answered, once the before hook ran. */
  readonly server: S;
  readonly deploy: DeployDir;
}

/** Registers the before and after hooks in the calling describe; the answer reads what they started. */
export function serverDeploy<S extends { stop(): Promise<void> }>(o: ServerDeployOptions<S>): ServerDeploy<S> {
  let deploy: DeployDir | undefined;
  let server: S | undefined;

  before(
    async () => {
      deploy = await createDeployDir(o.prefix);
      server = await o.start(deploy);
    },
    { timeout: o.startTimeout ?? 60_000 },
  );

  after(
    async () => {
      await server?.stop();
      await o.cleanup?.();
      await deploy?.remove();
    },
    { timeout: 30_000 },
  );

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the web server was not started (its before hook failed)');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get deploy() {
      return started(deploy);
    },
  };
}
