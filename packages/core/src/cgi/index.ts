// CGI: one request from the environment and stdin, the answer on stdout.
export { serveCgi, isCgiEnvironment } from './cgi.js';
