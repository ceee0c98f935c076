package serve_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/serve"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
)

// pod is a Pod object whose image volumes name refs.
func pod(refs ...string) map[string]any {
	var vols []any
	for i, r := range refs {
		vols = append(vols, map[string]any{"name": "m" + string(rune('a'+i)), "image": map[string]any{"reference": r}})
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "infer", "namespace": "ml"},
		"spec": map[string]any{"containers": []any{map[string]any{"name": "server", "image": "ghcr.io/acme/server:v1"}}, "volumes": vols}}
}

func reviewOf(uid, op string, obj, old map[string]any) []byte {
	req := map[string]any{"uid": uid, "operation": op, "namespace": "ml", "name": "infer",
		"kind":     map[string]any{"group": "", "version": "v1", "kind": "Pod"},
		"resource": map[string]any{"group": "", "version": "v1", "resource": "pods"}, "object": obj}
	if old != nil {
		req["oldObject"] = old
	}
	b, _ := json.Marshal(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req})
	return b
}

func deadHost(t *testing.T) string {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	h := ln.Addr().String()
	ln.Close()
	return h
}

// A "registry" whose error body holds a secret: the denial names the
// status, never the body.
func TestRegistryErrorBodyNotReflected(t *testing.T) {
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte("INTERNAL-SECRET token=hunter2"))
	}))
	defer evil.Close()
	h := newServer(t, nil).Handler()
	_, rr, _ := review(t, h, podReview("u", strings.TrimPrefix(evil.URL, "http://")+"/models/x:v1"))
	msg := message(rr)
	if rr.Response.Allowed || strings.Contains(msg, "hunter2") || strings.Contains(msg, "INTERNAL-SECRET") || !strings.Contains(msg, "403") {
		t.Errorf("denial %q", msg)
	}
}

// Updates that finish a deletion, or keep the models the object already
// had, are never refused (even with the registry down); a model an update
// adds is checked.
func TestAdmissionUpdates(t *testing.T) {
	h := newServer(t, nil).Handler()
	dead := deadHost(t) + "/models/x:v1"
	deleting := pod(dead)
	deleting["metadata"].(map[string]any)["deletionTimestamp"] = "2026-11-30T08:00:00Z"
	if _, rr, _ := review(t, h, reviewOf("u1", "UPDATE", deleting, pod(dead))); !rr.Response.Allowed {
		t.Errorf("finalizer removal refused: %q", message(rr))
	}
	labelled := pod(dead)
	labelled["metadata"].(map[string]any)["labels"] = map[string]any{"a": "b"}
	if _, rr, _ := review(t, h, reviewOf("u2", "UPDATE", labelled, pod(dead))); !rr.Response.Allowed {
		t.Errorf("label change refused: %q", message(rr))
	}
	added := deadHost(t) + "/models/y:v1"
	if _, rr, _ := review(t, h, reviewOf("u3", "UPDATE", pod(dead, added), pod(dead))); rr.Response.Allowed || !strings.Contains(message(rr), "models/y:v1") || strings.Contains(message(rr), "models/x:v1") {
		t.Errorf("added model: %+v", rr.Response)
	}
}

// requireDigest refuses tags; a reference hallmark can never check is
// refused even by a fail-open hook.
func TestAdmissionRefusals(t *testing.T) {
	strict := newServer(t, func(c *serve.Config) { c.Rules.RequireDigest = true }).Handler()
	_, rr, _ := review(t, strict, podReview("u", "ghcr.io/acme/models/x:v1"))
	if rr.Response.Allowed || !strings.Contains(message(rr), "must be named by digest") {
		t.Errorf("requireDigest: %+v", rr.Response)
	}
	open := newServer(t, func(c *serve.Config) { c.FailOpen = true }).Handler()
	_, rr, _ = review(t, open, podReview("u", "Registry/models/x:v1"))
	if rr.Response.Allowed || !strings.Contains(message(rr), "cannot be checked") {
		t.Errorf("unparseable under fail-open: %+v", rr.Response)
	}
}

// A registry that stalls holds at most its own host's slots: reviews of
// models elsewhere are still decided.
func TestStallingRegistryDoesNotStarveOthers(t *testing.T) {
	good := ocitest.NewRegistry()
	defer good.Close()
	push(t, good.Host, "models/good:v1", map[string][]byte{"config.json": fixture(t, "testdata/bom/hf-model/config.json")})
	sh, _ := stalling(t, good)
	for _, repo := range []string{"models/a:v1", "models/b:v1", "models/c:v1"} {
		push(t, good.Host, repo, map[string][]byte{"config.json": []byte(`{"` + repo + `": 1}`)})
	}
	h := newServer(t, func(c *serve.Config) { c.MaxScans = 4; c.Deadline = 300 * time.Millisecond }).Handler()
	_, rr, _ := review(t, h, (reviewOf("u-slow", "CREATE", pod(sh+"/models/a:v1", sh+"/models/b:v1", sh+"/models/c:v1"), nil)))
	if rr.Response.Allowed {
		t.Fatal("stalled models admitted")
	}
	_, rr, _ = review(t, h, podReview("u-good", good.Host+"/models/good:v1"))
	if !rr.Response.Allowed {
		t.Errorf("a model on another registry was not decided: %q", message(rr))
	}
}
