/* libfcgi's hello (Debian's libfcgi-dev): one FCGX_Accept_r loop on argv[1], a unix socket path or
 * host:port. One request at a time, as libfcgi's single-threaded responders run. */
#include <fcgiapp.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc < 2 || FCGX_Init() != 0) return 1;
  int sock = FCGX_OpenSocket(argv[1], 1024);
  if (sock < 0) return perror("FCGX_OpenSocket"), 1;
  FCGX_Request req;
  FCGX_InitRequest(&req, sock, 0);
  while (FCGX_Accept_r(&req) >= 0) {
    FCGX_PutS("Content-Type: text/plain\r\n\r\nHello World\n", req.out);
    FCGX_Finish_r(&req);
  }
  return 0;
}
