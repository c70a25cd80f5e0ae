package projections

import (
	"bytes"
	"fmt"
	"time"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/domain/execution"
	"github.com/stratahq/strata/events"
)

// Inputs is the read model of input file digests: for each (project, input URL) every
// use in order, and a warning on each execution whose input file differs from the
// previous use of the same URL (and file name) by another execution.
//
// Keys: x execution → project and number; h project uri position → InputUse;
// w execution position → InputWarning.
type Inputs struct{}

// InputUse is one execution's download of one file of an input URL.
type InputUse struct {
	Execution domain.ExecutionID `json:"execution"`
	Number    int                `json:"number"`
	Input     string             `json:"input"`
	URI       string             `json:"uri"`
	FileName  string             `json:"file_name"`
	Datum     domain.DatumID     `json:"datum,omitempty"`
	Size      int64              `json:"size"`
	MD5       domain.MD5         `json:"md5"`
	SHA1      domain.SHA1        `json:"sha1"`
	SHA256    domain.SHA256      `json:"sha256"`
	BLAKE3    domain.Digest      `json:"blake3"`
	At        time.Time          `json:"at"`
	Position  events.Position    `json:"position"`
}

// DigestChange is one digest that differs between two uses of an input URL.
type DigestChange struct {
	Algorithm string `json:"algorithm"`
	Before    string `json:"before"`
	After     string `json:"after"`
}

// InputWarning says that an input file differs from the previous use of its URL.
type InputWarning struct {
	Input    string             `json:"input"`
	URI      string             `json:"uri"`
	FileName string             `json:"file_name"`
	Earlier  domain.ExecutionID `json:"earlier"`
	// EarlierNumber is the earlier execution's #N.
	EarlierNumber int             `json:"earlier_number"`
	Changed       []DigestChange  `json:"changed"`
	Position      events.Position `json:"position"`
}

// Message renders the warning for people.
func (w InputWarning) Message() string {
	algs := ""
	for i, c := range w.Changed {
		if i > 0 {
			algs += ", "
		}
		algs += c.Algorithm
	}
	return fmt.Sprintf("input %s: %s differs from its use by execution #%d (%s changed)", w.Input, w.URI, w.EarlierNumber, algs)
}

type inputExec struct {
	Project domain.ProjectID `json:"project"`
	Number  int              `json:"number"`
}

// Name returns "inputs".
func (Inputs) Name() string { return "inputs" }

// Version returns the layout version.
func (Inputs) Version() int { return 1 }

// Apply records executions' numbers and their hashed inputs.
func (Inputs) Apply(tx Txn, env events.Envelope, ev events.Event) error {
	switch e := ev.(type) {
	case execution.Created:
		return putJSON(tx, key("x", string(e.Execution)), inputExec{Project: e.Project, Number: e.Number})
	case execution.InputHashed:
		var x inputExec
		if ok, err := getJSON(tx, key("x", string(e.Execution)), &x); err != nil || !ok {
			return err
		}
		use := InputUse{Execution: e.Execution, Number: x.Number, Input: e.Input, URI: e.URI, FileName: e.FileName, Datum: e.Datum,
			Size: e.Size, MD5: e.MD5, SHA1: e.SHA1, SHA256: e.SHA256, BLAKE3: e.BLAKE3, At: e.At, Position: env.Position}
		hist := prefixOf("h", string(x.Project), e.URI)
		// "l" keeps the latest use of each (project, uri, file) by another execution than
		// the one after it: no scan in the write transaction.
		lastKey := key("l", string(x.Project), e.URI, e.FileName)
		var prev, latest InputUse
		found, err := getJSON(tx, lastKey, &latest)
		if err != nil {
			return err
		}
		if found && latest.Execution == e.Execution {
			found, err = getJSON(tx, key("lp", string(x.Project), e.URI, e.FileName), &prev)
			if err != nil {
				return err
			}
		} else {
			prev = latest
			if found {
				if err := putJSON(tx, key("lp", string(x.Project), e.URI, e.FileName), latest); err != nil {
					return err
				}
			}
		}
		if err := putJSON(tx, lastKey, use); err != nil {
			return err
		}
		if found {
			if changed := digestChanges(prev, use); len(changed) > 0 {
				w := InputWarning{Input: e.Input, URI: e.URI, FileName: e.FileName, Earlier: prev.Execution, EarlierNumber: prev.Number,
					Changed: changed, Position: env.Position}
				if err := putJSON(tx, withPos(prefixOf("w", string(e.Execution)), env.Position), w); err != nil {
					return err
				}
			}
		}
		return putJSON(tx, withPos(bytes.Clone(hist), env.Position), use)
	}
	return nil
}

func digestChanges(a, b InputUse) []DigestChange {
	var out []DigestChange
	add := func(alg, x, y string) {
		if x != y {
			out = append(out, DigestChange{Algorithm: alg, Before: x, After: y})
		}
	}
	add("md5", a.MD5.String(), b.MD5.String())
	add("sha1", a.SHA1.String(), b.SHA1.String())
	add("sha256", a.SHA256.String(), b.SHA256.String())
	add("blake3", a.BLAKE3.String(), b.BLAKE3.String())
	return out
}

// History returns every use of the input URL uri in project, oldest first.
func (Inputs) History(r Reader, project domain.ProjectID, uri string) ([]InputUse, error) {
	var out []InputUse
	err := scanJSON(r, prefixOf("h", string(project), uri), nil, false, func(_ []byte, u InputUse) bool {
		out = append(out, u)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("input history of %s: %w", uri, err)
	}
	return out, nil
}

// Warnings returns the input warnings of an execution, in order.
func (Inputs) Warnings(r Reader, id domain.ExecutionID) ([]InputWarning, error) {
	var out []InputWarning
	err := scanJSON(r, prefixOf("w", string(id)), nil, false, func(_ []byte, w InputWarning) bool {
		out = append(out, w)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("input warnings of %s: %w", id, err)
	}
	return out, nil
}
