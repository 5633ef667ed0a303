// Go's net/http/fcgi hello, standard library only: listens on argv[1], a unix socket path or
// host:port.
package main

import (
	"net"
	"net/http"
	"net/http/fcgi"
	"os"
	"strings"
)

func main() {
	network := "tcp"
	if strings.HasPrefix(os.Args[1], "/") {
		network = "unix"
	}
	l, err := net.Listen(network, os.Args[1])
	if err != nil {
		panic(err)
	}
	fcgi.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("Hello World\n"))
	}))
}
