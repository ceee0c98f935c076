package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/hallmarkdev/hallmark/serve/admission"
	"github.com/hallmarkdev/hallmark/source"
)

// admission answers an AdmissionReview: every model the object names must
// pass the gate. Malformed reviews are 400 with a one-line reason;
// everything else is a 200 AdmissionReview that allows or denies.
func (s *Server) admission(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, admission.MaxReviewSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("hallmark: the AdmissionReview is larger than %d bytes", admission.MaxReviewSize), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "hallmark: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	rev, err := admission.ParseReview(body)
	if err != nil {
		http.Error(w, "hallmark: "+err.Error(), http.StatusBadRequest)
		return
	}
	reply := func(allowed bool, msg string, warnings []string) {
		verdict := "allowed"
		if !allowed {
			verdict = "denied"
		}
		s.metrics.verdicts.WithLabelValues("admission", verdict).Inc()
		s.log.Info("admission", "uid", rev.UID, "kind", rev.ObjectKind.Kind, "namespace", rev.Namespace, "name", rev.Name, "allowed", allowed, "message", msg)
		w.Header().Set("Content-Type", "application/json")
		w.Write(admission.Response(rev.UID, allowed, msg, warnings))
	}
	switch {
	case rev.Operation == "DELETE" || rev.Operation == "CONNECT":
		reply(true, "", nil)
		return
	case rev.Deleting():
		// Finishing a deletion (finalizers) must never be refused.
		reply(true, "", nil)
		return
	}
	refs, warnings, err := admission.Extract(rev, s.cfg.Rules)
	if err != nil {
		// An object hallmark cannot read could hide a model: fail closed.
		reply(false, "hallmark: "+err.Error(), warnings)
		return
	}
	if old := rev.Old(); old != nil {
		// An UPDATE is judged on the models it adds: the ones the object
		// already named were admitted with it (a label change must not be
		// refused because a registry is down).
		if oldRefs, _, err := admission.Extract(old, s.cfg.Rules); err == nil {
			had := map[string]bool{}
			for _, o := range oldRefs {
				had[o.Ref] = true
			}
			refs = slices.DeleteFunc(refs, func(r admission.Ref) bool { return had[r.Ref] })
		}
	}
	if len(refs) == 0 {
		reply(true, "", warnings)
		return
	}
	if s.cfg.Rules.RequireDigest {
		var tags []string
		for _, r := range refs {
			if !strings.Contains(r.Ref, "@sha256:") {
				tags = append(tags, r.Ref+" at "+r.Path)
			}
		}
		if len(tags) > 0 {
			reply(false, "hallmark: models must be named by digest (requireDigest: a tag can move after admission): "+strings.Join(tags, "; "), warnings)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Deadline)
	defer cancel()
	// On shutdown, stop waiting before the grace runs out, so that every
	// review still gets an answer (fail-open or closed) rather than EOF.
	stop := context.AfterFunc(s.drain, cancel)
	defer stop()
	type result struct {
		ref admission.Ref
		v   Verdict
		err error
	}
	results := make([]result, len(refs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			v, err := s.checker.Check(ctx, ref.Ref, nil)
			results[i] = result{ref: ref, v: v, err: err}
		}()
	}
	wg.Wait()
	var denied, failed []string
	for _, res := range results {
		where := res.ref.Ref
		if res.v.Digest != "" && !strings.Contains(where, res.v.Digest) {
			where += " (" + res.v.Digest + ")"
		}
		where += " at " + res.ref.Path
		var ue *source.UsageError
		switch {
		case res.err != nil && errors.As(res.err, &ue):
			// Not an outage: a reference hallmark can never check. Even a
			// fail-open hook refuses it.
			denied = append(denied, fmt.Sprintf("model %s cannot be checked: %s", where, publicError(res.err)))
		case res.err != nil:
			failed = append(failed, fmt.Sprintf("could not check model %s: %s", where, publicError(res.err)))
		case !res.v.Allowed:
			denied = append(denied, fmt.Sprintf("model %s refused: %s", where, res.v.Reason))
		}
	}
	switch {
	case len(denied) > 0:
		reply(false, "hallmark: "+strings.Join(append(denied, failed...), "; "), warnings)
	case len(failed) > 0 && s.cfg.FailOpen:
		s.metrics.verdicts.WithLabelValues("admission", "error").Inc()
		reply(true, "", append(warnings, "hallmark: fail-open: "+strings.Join(failed, "; ")))
	case len(failed) > 0:
		s.metrics.verdicts.WithLabelValues("admission", "error").Inc()
		reply(false, "hallmark: "+strings.Join(failed, "; ")+" (the hook is fail-closed)", warnings)
	default:
		reply(true, "", warnings)
	}
}
