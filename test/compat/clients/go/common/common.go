// Package common is the plumbing of the Go scenario programs: read the spec the
// runner wrote, run each task with a time limit, print one `@@ {json}` line per
// task. The programs only observe; test/compat/run.mjs judges.
package common

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"time"
)

// Msg is a message to produce, as the runner describes it.
type Msg struct {
	Key       string      `json:"key"`
	Value     string      `json:"value"`
	Headers   [][2]string `json:"headers"`
	Partition int32       `json:"partition"`
	Timestamp *int64      `json:"timestamp"`
}

// Read is a message as a client read it back.
type Read struct {
	Key     *string     `json:"key"`
	Value   *string     `json:"value"`
	Headers [][2]string `json:"headers"`
}

// TopicCount is a topic to read and how many messages it holds, or to produce with a codec.
type TopicCount struct {
	Topic string `json:"topic"`
	Count int    `json:"count"`
	Codec string `json:"codec"`
}

// Task is one scenario to run; which fields are set depends on Kind.
type Task struct {
	ID         string           `json:"id"`
	Kind       string           `json:"kind"`
	TimeoutMs  int              `json:"timeoutMs"`
	Topic      string           `json:"topic"`
	Codec      string           `json:"codec"`
	Group      string           `json:"group"`
	Partitions int              `json:"partitions"`
	Messages   []Msg            `json:"messages"`
	First      []Msg            `json:"first"`
	Second     []Msg            `json:"second"`
	Queries    map[string]int64 `json:"queries"`
	LargeBytes int              `json:"largeBytes"`
	Offset     int              `json:"offset"`
	Config     string           `json:"config"`
	Value      string           `json:"value"`
	Topics     []TopicCount     `json:"topics"`
	Steps      []Step           `json:"steps"`
}

// Conn is how a security step connects: bootstrap, security protocol (SSL, SASL_PLAINTEXT, SASL_SSL), the
// CA certificate to verify the broker with (TLS), the SASL mechanism and credentials.
type Conn struct {
	Bootstrap string `json:"bootstrap"`
	Protocol  string `json:"protocol"`
	CA        string `json:"ca"`
	Mechanism string `json:"mechanism"`
	Username  string `json:"username"`
	Password  string `json:"password"`
}

// Step is one step of a security row: produce Messages to Topic and read them back (Expect "ok"), or try to
// produce where the broker refuses (Expect "auth-failed" or "topic-denied").
type Step struct {
	Label    string `json:"label"`
	Conn     Conn   `json:"conn"`
	Topic    string `json:"topic"`
	Expect   string `json:"expect"`
	Messages []Msg  `json:"messages"`
}

// TLSConfig is a TLS configuration that verifies the broker with the CA certificate in the PEM file `ca`.
func TLSConfig(ca string) (*tls.Config, error) {
	pem, err := ioutil.ReadFile(ca)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", ca)
	}
	return &tls.Config{RootCAs: pool}, nil
}

// SecuritySteps runs a security row's steps: roundTrip produces and reads back; refused tries to produce and
// returns the error the client gave (an Out with "refused" and "hidden" when the client cannot show it).
func SecuritySteps(t Task, roundTrip func(s Step) ([]Read, error), refused func(s Step) Out) (Out, error) {
	steps := []Out{}
	for _, s := range t.Steps {
		if s.Expect == "ok" {
			got, err := roundTrip(s)
			if err != nil {
				steps = append(steps, Out{"label": s.Label, "error": err.Error()})
			} else {
				steps = append(steps, Out{"label": s.Label, "read": got})
			}
			continue
		}
		out := refused(s)
		out["label"] = s.Label
		steps = append(steps, out)
	}
	return Out{"steps": steps}, nil
}

// Spec is what the runner asks of one client process.
type Spec struct {
	Client       string `json:"client"`
	Bootstrap    string `json:"bootstrap"`
	ErrBootstrap string `json:"errBootstrap"`
	Tasks        []Task `json:"tasks"`
}

// Out is a task's observation.
type Out map[string]interface{}

// Handler runs one kind of task.
type Handler func(t Task) (Out, error)

// LoadSpec reads the spec named by $COMPAT_SPEC.
func LoadSpec() Spec {
	raw, err := ioutil.ReadFile(os.Getenv("COMPAT_SPEC"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "reading spec:", err)
		os.Exit(2)
	}
	var spec Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		fmt.Fprintln(os.Stderr, "parsing spec:", err)
		os.Exit(2)
	}
	return spec
}

func report(v map[string]interface{}) {
	line, _ := json.Marshal(v)
	fmt.Printf("@@ %s\n", line)
}

// RunTasks runs every task through its handler, reports each, and exits.
func RunTasks(spec Spec, handlers map[string]Handler) {
	for _, t := range spec.Tasks {
		started := time.Now()
		h, ok := handlers[t.Kind]
		ms := func() int64 { return int64(time.Since(started) / time.Millisecond) }
		if !ok {
			report(map[string]interface{}{"id": t.ID, "ok": false, "error": "this program has no '" + t.Kind + "' scenario", "ms": ms()})
			continue
		}
		type result struct {
			out Out
			err error
		}
		done := make(chan result, 1)
		go func(t Task) {
			defer func() {
				if r := recover(); r != nil {
					done <- result{nil, fmt.Errorf("panic: %v", r)}
				}
			}()
			out, err := h(t)
			done <- result{out, err}
		}(t)
		select {
		case r := <-done:
			if r.err != nil {
				report(map[string]interface{}{"id": t.ID, "ok": false, "error": r.err.Error(), "ms": ms()})
			} else {
				if r.out == nil {
					r.out = Out{}
				}
				report(map[string]interface{}{"id": t.ID, "ok": true, "data": r.out, "ms": ms()})
			}
		case <-time.After(time.Duration(t.TimeoutMs) * time.Millisecond):
			report(map[string]interface{}{"id": t.ID, "ok": false, "error": fmt.Sprintf("timed out after %d ms", t.TimeoutMs), "ms": ms()})
		}
	}
	os.Exit(0)
}

// Str returns a JSON-able string pointer for bytes (nil stays nil).
func Str(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

// ErrText is an error's text, or nil when there was none.
func ErrText(err error) interface{} {
	if err == nil {
		return nil
	}
	return err.Error()
}

// CountByPartition counts messages per partition.
func CountByPartition(msgs []Msg) map[int32]int {
	out := map[int32]int{}
	for _, m := range msgs {
		out[m.Partition]++
	}
	return out
}
