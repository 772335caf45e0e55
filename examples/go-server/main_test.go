package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRoutes(t *testing.T) {
	cases := []struct {
		path string
		code int
		body string
	}{
		{"/", http.StatusOK, greeting},
		{"/healthz", http.StatusOK, "ok\n"},
		{"/nope", http.StatusNotFound, ""},
	}
	mux := newMux()
	for _, c := range cases {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
		if rec.Code != c.code {
			t.Errorf("GET %s: status %d, want %d", c.path, rec.Code, c.code)
		}
		if c.body != "" && rec.Body.String() != c.body {
			t.Errorf("GET %s: body %q, want %q", c.path, rec.Body.String(), c.body)
		}
	}
}
