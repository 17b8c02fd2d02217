// Command minimal is the baseline for the cold-start benchmark: the smallest
// Go HTTP server answering /api/health on FUNCTIONS_CUSTOMHANDLER_PORT.
package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/api/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok","version":"minimal"}`))
	})
	_ = http.ListenAndServe("127.0.0.1:"+os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT"), nil)
}
