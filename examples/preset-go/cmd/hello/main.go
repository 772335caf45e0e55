// A tiny HTTP server using only the Go standard library.
//
//	GET /         a greeting with the time in Lisbon (the time zone
//	              database is built into the binary: the image is scratch)
//	GET /healthz  "ok", for probes
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

func newMux(zone *time.Location) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Olá do preset go! Em Lisboa são %s.\n", time.Now().In(zone).Format("15:04"))
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

func main() {
	zone, err := time.LoadLocation("Europe/Lisbon")
	if err != nil {
		log.Fatalf("no time zone database: %v", err)
	}
	addr := ":8080"
	if port := os.Getenv("PORT"); port != "" {
		addr = ":" + port
	}
	server := &http.Server{
		Addr:              addr,
		Handler:           newMux(zone),
		ReadHeaderTimeout: 5 * time.Second,
	}
	log.Printf("listening on %s", addr)
	log.Fatal(server.ListenAndServe())
}
