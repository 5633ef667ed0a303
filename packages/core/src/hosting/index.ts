// @fcgi/core/hosting: what a bundle built by `fcgi bundle` runs at start.
export { startBundledApp } from './start.js';
