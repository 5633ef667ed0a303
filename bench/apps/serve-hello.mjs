// @fcgi hello through serve(), as the README has it: FastCGI on what the host gives (fd 0 under
// mod_fcgid, FCGI_LISTEN) or one CGI request. Bundled with `fcgi bundle` (top-level await works).
import { serve } from '@fcgi/core';

await serve((_req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello World\n');
});
