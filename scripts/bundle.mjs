#!/usr/bin/env node
// The repository's shortcut for `fcgi bundle` (packages/core/src/bundle/): one executable file with
// the app and everything it imports, for hosts with Node but no npm. Needs @fcgi/core built (dist/).
//   node scripts/bundle.mjs src/app.ts dist/app.fcgi [--node PATH] [--htaccess]
// Outside this repository, run the same through the package: `npx fcgi bundle src/app.ts dist/app.fcgi`.
import { bundleCommand } from '../packages/core/dist/bundle/command.js';

process.exitCode = await bundleCommand(process.argv.slice(2));
