// One Apache behind a describe block of deployment tests (the hooks of server-deploy.ts): its before
// hook makes the deploy dir, bundles the app into www/ with its .htaccess and starts Apache; its after
// hook stops Apache and removes the dir. What differs between tests (more mounts, the server-wide
// lines, an app of their own) stays in `setup` and `cleanup`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IN_CI, skipUnless } from './app-process.js';
import { APACHE, hasApacheModule, startApache, type ApacheOptions } from './apache.js';
import { bundleApp, checkNodeRunnableBy, fcgidServerLines, webUser, type DeployDir, type RunAs } from './deploy-app.js';
import { serverDeploy } from './server-deploy.js';

/** What a request lost to a mod_fcgid process going away looks like in Apache's error log. */
export const LOST_REQUEST =
  /Connection reset by peer|End of script output before headers|premature end|can't apply process slot|Permission denied/;

/** A describe's `skip`: skipped outside CI when apache2 or one of `modules` is not installed. */
export function skipUnlessApache(modules: readonly string[], pkg: string): string | false {
  return skipUnless(APACHE && modules.every(hasApacheModule) ? APACHE : null, pkg);
}

export interface ApacheDeployDirs {
  readonly deploy: DeployDir;
  /** deploy/www, the DocumentRoot unless `docRoot` names another. */
  readonly www: string;
  /** deploy/home (the app's HOME) with `fcgid: true`, else ''. */
  readonly home: string;
  readonly user: RunAs | null;
}

export interface ApacheDeployOptions {
  /** The deploy dir's name prefix (mkdtemp). */
  prefix: string;
  mpm: ApacheOptions['mpm'];
  modules: readonly string[];
  /** `entry` bundled into www/`file`, and `htaccess` written as www/.htaccess, before `setup` runs. */
  app?: { entry: string; file: string; htaccess: string };
  /** mod_fcgid's dirs (deploy/home, deploy/fcgid, owned by the web user) and fcgidServerLines first in the config. */
  fcgid?: boolean;
  /** The DocumentRoot relative to the deploy dir; 'www' when not given. */
  docRoot?: string;
  /** Puts the rest of the site in place; returns the directives after the common part, if any. */
  setup?: (dirs: ApacheDeployDirs) => string | Promise<string> | void | Promise<void>;
  /** Stops what `setup` started (an app of its own), after Apache stopped and before the dir is removed. */
  cleanup?: () => unknown;
  /**
   * False when no Node runs as the web user (the test starts its app itself): whether that user
   * can run this Node is then not checked.
   */
  appAsWebUser?: boolean;
  /** The before hook's timeout; 60 s when not given. */
  startTimeout?: number;
}

export interface ApacheDeploy {
  /** Apache's port (the first Listen). */
  readonly port: number;
  /** Apache's error log as it is now. */
  errorLog(): string;
  readonly deploy: DeployDir;
  /** deploy/www. */
  readonly www: string;
  /** The user Apache hands requests to (www-data when we are root), known at once. */
  readonly user: RunAs | null;
}

/** Registers the before and after hooks in the calling describe; the answer reads the running Apache. */
export function apacheDeploy(o: ApacheDeployOptions): ApacheDeploy {
  const user = webUser();
  const front = serverDeploy({
    prefix: o.prefix,
    start: async (deploy) => {
      const missing = o.modules.filter((m) => !hasApacheModule(m));
      if (IN_CI && missing.length > 0) throw new Error(`Apache modules missing: ${missing.join(', ')}`);
      if (o.appAsWebUser !== false) checkNodeRunnableBy(user);
      const www = deploy.mkdir('www');
      const home = o.fcgid ? deploy.mkdir('home', user) : '';
      const ipc = o.fcgid ? deploy.mkdir('fcgid', user) : '';
      if (o.app) {
        bundleApp(o.app.entry, join(www, o.app.file));
        writeFileSync(join(www, '.htaccess'), o.app.htaccess);
      }
      const extra = (await o.setup?.({ deploy, www, home, user })) ?? '';
      return startApache(deploy, {
        mpm: o.mpm,
        modules: o.modules,
        docRoot: join(deploy.path, o.docRoot ?? 'www'),
        user,
        extra: o.fcgid ? `${fcgidServerLines(ipc, home)}\n${extra}` : extra,
      });
    },
    cleanup: o.cleanup,
    startTimeout: o.startTimeout,
  });

  return {
    get port() {
      return front.server.port;
    },
    errorLog: () => front.server.errorLog(),
    get deploy() {
      return front.deploy;
    },
    get www() {
      return join(front.deploy.path, 'www');
    },
    user,
  };
}
