export { serveCgi, isCgiEnvironment, type CgiOptions } from './cgi.js';
